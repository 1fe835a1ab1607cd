import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { assignRequestId } from '../../../src/api/shared/request-context';
import { requestLogging, requestLogOf } from '../../../src/api/shared/request-logging';

/** The request's completion line and the handler's own lines, as written to the log stream. */
async function linesOf(level: string, run: (url: string) => Promise<void>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      done();
    },
  });
  const logger = pino({ name: 'arena', level, redact: { paths: ['token', '*.token'], censor: '[redacted]' } }, sink);
  const app = express();
  app.use((req, res, next) => {
    assignRequestId(req, res);
    next();
  });
  app.use(requestLogging(logger));
  app.get('/ok', (req, res) => {
    requestLogOf(req)?.info({ token: 'secret' }, 'handler line');
    res.json({ ok: true });
  });
  app.get('/fail', (_req, res) => {
    res.status(503).json({ ok: false });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return written.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('requestLogging', () => {
  it("writes one completion line per request, request id first, and gives handlers a logger bound to the request's id", async () => {
    const lines = await linesOf('info', async (url) => {
      expect((await fetch(`${url}/ok?limit=5&token=abc`, { headers: { 'x-request-id': 'req-1' } })).status).toBe(200);
      expect((await fetch(`${url}/fail`, { headers: { 'x-request-id': 'req-2' } })).status).toBe(503);
    });
    expect(lines.map((line) => Object.keys(line))).toEqual([
      ['level', 'time', 'pid', 'hostname', 'name', 'requestId', 'token', 'msg'],
      ['level', 'time', 'pid', 'hostname', 'name', 'requestId', 'req', 'res', 'responseTime', 'msg'],
      ['level', 'time', 'pid', 'hostname', 'name', 'requestId', 'req', 'res', 'err', 'responseTime', 'msg'],
    ]);
    expect(lines[0]).toMatchObject({ level: 30, requestId: 'req-1', token: '[redacted]', msg: 'handler line' });
    expect(lines[1]).toMatchObject({
      level: 30,
      requestId: 'req-1',
      req: { method: 'GET', url: '/ok?limit=5&token=%5Bredacted%5D', remoteAddress: expect.stringContaining('127.0.0.1') },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      msg: 'request completed',
    });
    expect(lines[2]).toMatchObject({
      level: 50,
      requestId: 'req-2',
      res: { statusCode: 503 },
      err: { message: 'failed with status code 503' },
      msg: 'GET request failed with 503',
    });
  });

  it('writes no completion line below its level, and still binds the handlers logger', async () => {
    const lines = await linesOf('warn', async (url) => {
      await fetch(`${url}/ok`, { headers: { 'x-request-id': 'req-3' } });
    });
    expect(lines).toEqual([]);
    const handlerLines = await linesOf('info', async (url) => {
      await fetch(`${url}/ok`, { headers: { 'x-request-id': 'req-4' } });
    });
    expect(handlerLines.filter((line) => line.msg === 'handler line').map((line) => line.requestId)).toEqual(['req-4']);
  });
});
