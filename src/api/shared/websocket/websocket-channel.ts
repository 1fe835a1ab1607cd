import type { z } from 'zod';
import type { AuthenticatedUser } from '../route';

/** A message to a client: always an object with a `type`. */
export interface ServerMessage {
  type: string;
  [key: string]: unknown;
}

/** One authenticated socket. `topics` holds what the client subscribed to (channel-defined keys, e.g. a session id). */
export interface WebSocketConnection {
  id: string;
  path: string;
  /** The channel's connection group (see WebSocketChannel.connectionGroup). */
  group: string;
  user: AuthenticatedUser;
  topics: Set<string>;
  send(message: ServerMessage): void;
  /** Sends `{ type: 'error', error, code, details }` and keeps the socket open. */
  sendError(code: string, message: string, details?: Record<string, unknown>): void;
}

/**
 * A WebSocket endpoint: a path, the zod schema of what clients may send, and handlers. Errors
 * thrown by `onMessage` (AppErrors) become error messages to that client; the socket stays open.
 */
export interface WebSocketChannel<M extends z.ZodType = z.ZodType> {
  path: string;
  /**
   * Channels of one group share the per-user connection cap (LapXcel's /ws/telemetry and
   * /ws/training: 10 together, as that contract says). Defaults to the path: a cap of its own.
   */
  connectionGroup?: string;
  clientMessage: M;
  onConnect?(connection: WebSocketConnection): Promise<void> | void;
  onMessage(connection: WebSocketConnection, message: z.infer<M>): Promise<void> | void;
  onClose?(connection: WebSocketConnection): void;
}

export function defineWebSocketChannel<M extends z.ZodType>(channel: WebSocketChannel<M>): WebSocketChannel<M> {
  return channel;
}

export type AnyWebSocketChannel = WebSocketChannel<z.ZodType>;
