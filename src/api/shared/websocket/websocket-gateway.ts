import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { AppError } from '../../../domain/shared/errors';
import { containErrors } from '../../../infrastructure/errors/unexpected-errors';
import type { SessionCheck } from '../auth/session-guard';
import { authenticateWebSocketSession, webSocketTokenOf } from '../auth/websocket-authentication';
import type { TokenService } from '../auth/token-service';
import type { AnyWebSocketChannel, ServerMessage, WebSocketConnection } from './websocket-channel';

const connectionGroupOf = (channel: AnyWebSocketChannel) => channel.connectionGroup ?? channel.path;

export const WS_CLOSE = { unauthorized: 4401, tooManyConnections: 4429 } as const;
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

/**
 * The one WebSocket server of an API process: authenticates at connect (`?token=`), enforces the
 * per-user connection limit per connection group (WS_MAX_CONNECTIONS_PER_USER, 10), validates client messages with the channel's zod
 * schema, and answers every problem with `{ type: 'error', error, code, details }`.
 */
export class WebSocketGateway {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  private readonly channels = new Map<string, AnyWebSocketChannel>();
  private readonly connections = new Map<WebSocketConnection, WebSocket>();

  constructor(
    private readonly options: {
      tokens: TokenService;
      /** The session check of HTTP requests; the process always passes it (tests of the gateway alone may not). */
      sessions?: SessionCheck;
      logger: Logger;
      maxConnectionsPerUser: number;
    },
  ) {}

  /** Open connections (the arena_websocket_connections gauge). */
  get openConnections(): number {
    return this.connections.size;
  }

  register(channel: AnyWebSocketChannel): void {
    this.channels.set(channel.path, channel);
  }

  attach(httpServer: Server): void {
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      // A client may reset the TCP connection at any moment, before, during or after the handshake.
      containErrors(socket, this.options.logger, { kind: 'upgrade_socket', close: () => socket.destroy() });
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const channel = this.channels.get(path);
      if (!channel) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n');
        return;
      }
      this.server.handleUpgrade(request, socket, head, (ws) => {
        // Before anything else: ws reports oversize and malformed frames, and invalid UTF-8, as an
        // `error` event on the socket, and it may fire while the connection is still being
        // authenticated or refused. ws has by then begun closing with the fitting code (1009 too
        // big, 1002 protocol error, 1007 invalid UTF-8); only a socket still open is closed here.
        containErrors(ws, this.options.logger, {
          kind: 'websocket',
          id: path,
          close: () => {
            if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'unexpected error');
          },
        });
        void this.accept(ws, request, channel);
      });
    });
  }

  /** Sends to every open connection of `path` (all paths when omitted) that `select` picks. */
  broadcast(select: (connection: WebSocketConnection) => boolean, message: ServerMessage, path?: string): number {
    let sent = 0;
    for (const connection of this.connections.keys()) {
      if ((path === undefined || connection.path === path) && select(connection)) {
        connection.send(message);
        sent++;
      }
    }
    return sent;
  }

  async close(): Promise<void> {
    for (const ws of this.connections.values()) ws.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async accept(ws: WebSocket, request: IncomingMessage, channel: AnyWebSocketChannel): Promise<void> {
    const reject = (closeCode: number, code: string, error: string) => {
      ws.send(JSON.stringify({ type: 'error', error, code, details: {} }));
      ws.close(closeCode, error);
    };
    // Authentication is asynchronous (the session check): a client may send right after the
    // upgrade, so what arrives meanwhile is held and handled, in order, once the connection is set up.
    const early: RawData[] = [];
    const holdEarly = (data: RawData) => early.push(data);
    ws.on('message', holdEarly);
    let user;
    try {
      user = await authenticateWebSocketSession(this.options.tokens, this.options.sessions, webSocketTokenOf(request));
    } catch (error) {
      reject(WS_CLOSE.unauthorized, 'UNAUTHORIZED', error instanceof Error ? error.message : 'Invalid token');
      return;
    }
    const group = connectionGroupOf(channel);
    const open = [...this.connections.keys()].filter((c) => c.user.id === user.id && c.group === group).length;
    if (open >= this.options.maxConnectionsPerUser) {
      // The close reason (at most 123 bytes) says why; the error message before it says the same.
      reject(WS_CLOSE.tooManyConnections, 'RATE_LIMIT_EXCEEDED', `At most ${this.options.maxConnectionsPerUser} concurrent WebSocket connections per user`);
      return;
    }
    const send = (message: ServerMessage) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
    };
    const connection: WebSocketConnection = {
      id: randomUUID(),
      path: channel.path,
      group,
      user,
      topics: new Set(),
      send,
      sendError: (code, error, details = {}) => send({ type: 'error', error, code, details }),
    };
    this.connections.set(connection, ws);
    const log = this.options.logger.child({ ws: connection.id, path: channel.path, userId: user.id });
    ws.on('close', () => {
      this.connections.delete(connection);
      channel.onClose?.(connection);
    });
    try {
      await channel.onConnect?.(connection);
    } catch (error) {
      log.error({ err: error }, 'websocket onConnect failed');
    }
    ws.off('message', holdEarly);
    ws.on('message', (data: RawData) => void this.receive(channel, connection, data, log));
    for (const data of early.splice(0)) void this.receive(channel, connection, data, log);
  }

  private async receive(channel: AnyWebSocketChannel, connection: WebSocketConnection, data: RawData, log: Logger): Promise<void> {
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(data.toString());
    } catch {
      connection.sendError('INVALID_MESSAGE', 'Message is not valid JSON');
      return;
    }
    const parsed = channel.clientMessage.safeParse(parsedJson);
    if (!parsed.success) {
      const fields = Object.fromEntries(parsed.error.issues.map((issue) => [issue.path.join('.') || '(message)', issue.message]));
      connection.sendError('INVALID_MESSAGE', 'Message does not match any known message type', { fields });
      return;
    }
    try {
      await channel.onMessage(connection, parsed.data);
    } catch (error) {
      if (error instanceof AppError) {
        connection.sendError(error.code, error.message, error.details);
      } else {
        log.error({ err: error }, 'websocket handler failed');
        connection.sendError('INTERNAL_ERROR', 'Internal server error');
      }
    }
  }
}
