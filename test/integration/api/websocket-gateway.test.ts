import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { TokenService } from '../../../src/api/shared/auth/token-service';
import { defineWebSocketChannel } from '../../../src/api/shared/websocket/websocket-channel';
import { WebSocketGateway, WS_CLOSE } from '../../../src/api/shared/websocket/websocket-gateway';
import { NotFoundError } from '../../../src/domain/shared/errors';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { connectWebSocket } from '../../support/ws-client';

const tokens = new TokenService({ secret: 'x'.repeat(40), accessTokenTtlSec: 60, refreshTokenTtlSec: 600 });
let server: Server;
let gateway: WebSocketGateway;
let base: string;
const connect = (path: string) => connectWebSocket(`${base}${path}`);

beforeAll(async () => {
  server = createServer();
  gateway = new WebSocketGateway({ tokens, logger: createLogger({ level: 'silent' }), maxConnectionsPerUser: 3 });
  gateway.register(
    defineWebSocketChannel({
      path: '/ws/test',
      clientMessage: z.discriminatedUnion('type', [
        z.object({ type: z.literal('subscribe'), topic: z.string().min(1) }),
        z.object({ type: z.literal('missing') }),
      ]),
      onMessage(connection, message) {
        if (message.type === 'missing') throw new NotFoundError('No such thing');
        connection.topics.add(message.topic);
        connection.send({ type: 'subscribed', topic: message.topic });
      },
    }),
  );
  const grouped = (path: string) =>
    defineWebSocketChannel({ path, connectionGroup: 'pair', clientMessage: z.object({ type: z.literal('ping') }), onMessage: () => undefined });
  gateway.register(grouped('/ws/pair-a'));
  gateway.register(grouped('/ws/pair-b'));
  gateway.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await gateway.close();
  await new Promise((resolve) => server.close(resolve));
});

const token = (id: string) => tokens.issue({ id, username: id }).access_token;

describe('WebSocket gateway', () => {
  it('rejects a bad token with an error message and close code 4401', async () => {
    const client = await connect('/ws/test?token=garbage');
    expect(await client.next()).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' });
    expect(await client.closed).toBe(WS_CLOSE.unauthorized);
    const none = await connect('/ws/test');
    expect(await none.next()).toMatchObject({ type: 'error', code: 'UNAUTHORIZED', error: 'Missing access token' });
  });

  it('answers malformed and unknown messages with clear errors and keeps the socket open', async () => {
    const client = await connect(`/ws/test?token=${token('u-msg')}`);
    client.ws.send('{not json');
    expect(await client.next()).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE', error: 'Message is not valid JSON' });
    client.ws.send(JSON.stringify({ type: 'dance' }));
    expect(await client.next((m) => m.error !== 'Message is not valid JSON')).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE' });
    client.ws.send(JSON.stringify({ type: 'missing' }));
    expect(await client.next((m) => m.code === 'NOT_FOUND')).toMatchObject({ error: 'No such thing' });
    client.ws.send(JSON.stringify({ type: 'subscribe', topic: 'a' }));
    expect(await client.next((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', topic: 'a' });
    expect(gateway.broadcast((c) => c.topics.has('a'), { type: 'news', n: 1 }, '/ws/test')).toBe(1);
    expect(await client.next((m) => m.type === 'news')).toEqual({ type: 'news', n: 1 });
    client.ws.close();
    await client.closed;
  });

  it('limits concurrent connections per user', async () => {
    const open = await Promise.all([1, 2, 3].map(() => connect(`/ws/test?token=${token('u-limit')}`)));
    const extra = await connect(`/ws/test?token=${token('u-limit')}`);
    expect(await extra.next()).toMatchObject({ type: 'error', code: 'RATE_LIMIT_EXCEEDED' });
    expect(await extra.closed).toBe(WS_CLOSE.tooManyConnections);
    const otherUser = await connect(`/ws/test?token=${token('u-other')}`);
    expect(otherUser.ws.readyState).toBe(WebSocket.OPEN);
    open[0].ws.close();
    await open[0].closed;
    const again = await connect(`/ws/test?token=${token('u-limit')}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(again.ws.readyState).toBe(WebSocket.OPEN);
    for (const c of [...open.slice(1), otherUser, again]) c.ws.close();
  });

  it('counts the channels of one connection group together, and other channels apart', async () => {
    const user = token('u-group');
    const open = [await connect(`/ws/pair-a?token=${user}`), await connect(`/ws/pair-b?token=${user}`), await connect(`/ws/pair-a?token=${user}`)];
    const fourth = await connect(`/ws/pair-b?token=${user}`);
    expect(await fourth.next()).toEqual({ type: 'error', code: 'RATE_LIMIT_EXCEEDED', error: 'At most 3 concurrent WebSocket connections per user', details: {} });
    expect(await fourth.closedWith).toEqual({ code: WS_CLOSE.tooManyConnections, reason: 'At most 3 concurrent WebSocket connections per user' });
    // A channel outside the group has a cap of its own.
    const elsewhere = await connect(`/ws/test?token=${user}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(elsewhere.ws.readyState).toBe(WebSocket.OPEN);
    for (const c of [...open, elsewhere]) c.ws.close();
  });
});
