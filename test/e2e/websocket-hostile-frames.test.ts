import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/free-port';
import { clientFrame, OPCODE, rawWebSocketExchange } from '../support/raw-websocket';
import { http } from '../support/test-system';
import { connectWebSocket } from '../support/ws-client';

jest.setTimeout(240_000);

const PATHS = ['/api/v1/ws', '/ws/telemetry', '/ws/training'];
const OVER_MAX_PAYLOAD = 64 * 1024 + 1;

/** Hostile frames, each sent right behind the upgrade request. */
const HOSTILE: { name: string; frames: () => Buffer[]; abort?: boolean }[] = [
  { name: 'an oversize text frame (header only)', frames: () => [clientFrame(OPCODE.text, Buffer.alloc(0), { declaredLength: 10 * 1024 * 1024 })] },
  { name: 'an oversize text frame (full payload)', frames: () => [clientFrame(OPCODE.text, Buffer.alloc(OVER_MAX_PAYLOAD, 0x61))] },
  { name: 'an oversize binary frame', frames: () => [clientFrame(OPCODE.binary, Buffer.alloc(OVER_MAX_PAYLOAD, 0x01))] },
  { name: 'a binary frame', frames: () => [clientFrame(OPCODE.binary, Buffer.from([0xde, 0xad, 0xbe, 0xef]))] },
  { name: 'a frame with reserved bits set', frames: () => [clientFrame(OPCODE.text, Buffer.from('{}'), { rsv: 0b111 })] },
  { name: 'a frame with a reserved opcode', frames: () => [clientFrame(OPCODE.reserved, Buffer.from('x'))] },
  { name: 'an unmasked client frame', frames: () => [clientFrame(OPCODE.text, Buffer.from('{"type":"ping"}'), { masked: false })] },
  { name: 'invalid UTF-8 in a text frame', frames: () => [clientFrame(OPCODE.text, Buffer.from([0xff, 0xfe, 0xfd]))] },
  { name: 'a truncated frame, then an abrupt disconnect', frames: () => [clientFrame(OPCODE.text, Buffer.alloc(200, 0x61)).subarray(0, 50)], abort: true },
  { name: 'an oversize frame, then an abrupt disconnect', frames: () => [clientFrame(OPCODE.text, Buffer.alloc(OVER_MAX_PAYLOAD, 0x61))], abort: true },
];

/**
 * Issue 8, defect 1: one unauthenticated oversize frame used to kill the whole process. Every
 * hostile frame on every WebSocket path, with and without a token, against `arena start` as a
 * separate process: after each, the process is alive and /readyz answers 200.
 */
describe('WebSocket paths under hostile frames', () => {
  let baseUrl: string;
  let app: CliProcess;
  let token: string;

  beforeAll(async () => {
    ensureBuilt();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    app = runCli(['start'], {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-ws-hostile-')),
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_AUTH_PER_MIN: '1000',
    });
    await waitForReady(baseUrl, app);
    const registered = await http(baseUrl, 'POST', '/api/v1/auth/register', {
      body: { username: 'frame_sender', email: 'frames@example.com', password: 'SecurePass123' },
    });
    expect(registered.status).toBe(201);
    token = String(registered.body.access_token);
  });

  afterAll(async () => {
    if (app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });

  const expectStillServing = async (what: string) => {
    if (app.child.exitCode !== null) throw new Error(`arena exited (${app.child.exitCode}) after ${what}:\n${app.output().slice(-4000)}`);
    const ready = await fetch(`${baseUrl}/readyz`);
    expect({ what, status: ready.status }).toEqual({ what, status: 200 });
  };

  for (const path of PATHS) {
    for (const withToken of [false, true]) {
      it(`${path} ${withToken ? 'with' : 'without'} a token: the process survives every hostile frame`, async () => {
        const target = withToken ? `${path}?token=${encodeURIComponent(token)}` : path;
        for (const hostile of HOSTILE) {
          const exchange = await rawWebSocketExchange(baseUrl, target, hostile.frames(), { abort: hostile.abort });
          if (!hostile.abort) expect(exchange.received).toMatch(/^HTTP\/1\.1 101/);
          await expectStillServing(`${hostile.name} on ${target.replace(/token=.*/, 'token=...')}`);
        }
      });
    }
  }

  it('answers a binary frame from a signed-in client with an error message and keeps the socket open', async () => {
    const client = await connectWebSocket(`${baseUrl.replace('http', 'ws')}/api/v1/ws?token=${encodeURIComponent(token)}`);
    client.ws.send(Buffer.from([0x00, 0xff, 0x10]));
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE' });
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    client.ws.close();
    await client.closed;
    await expectStillServing('a binary frame from a signed-in client');
  });

  it('closes an oversize frame of a signed-in client with 1009 and serves the next connection', async () => {
    const client = await connectWebSocket(`${baseUrl.replace('http', 'ws')}/ws/telemetry?token=${encodeURIComponent(token)}`);
    client.ws.send('x'.repeat(OVER_MAX_PAYLOAD));
    expect(await client.closed).toBe(1009);
    await expectStillServing('an oversize frame from a signed-in client');
    const next = await connectWebSocket(`${baseUrl.replace('http', 'ws')}/ws/telemetry?token=${encodeURIComponent(token)}`);
    next.ws.send('not json');
    expect(await next.next((m) => m.type === 'error')).toMatchObject({ code: 'INVALID_MESSAGE' });
    next.ws.close();
  });
});
