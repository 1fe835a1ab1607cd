import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { z } from 'zod';
import { createHttpApp } from '../../../src/api/http-app';
import { TokenService } from '../../../src/api/shared/auth/token-service';
import type { RouteCommandServices } from '../../../src/api/shared/route-mounting';
import { defineRoute, type AnyRouteDefinition } from '../../../src/api/shared/route';
import type { CommandContext } from '../../../src/commands/command-context';
import { loadConfig } from '../../../src/infrastructure/config/config';
import type { EventStore } from '../../../src/infrastructure/eventstore/event-store';

/**
 * Read-your-writes declared on the route (`waitFor` + `written`), and the command context the
 * route mounting builds for every request. The waiting itself (projection_revisions, the bus's
 * health) is waitForProjection's, tested end to end in lagging-read-model.test.ts.
 */
const SECRET = 'integration-test-secret-at-least-32-characters';
const tokens = new TokenService({ secret: SECRET, accessTokenTtlSec: 3600, refreshTokenTtlSec: 86400 });
const projection = { name: 'things' };

interface Wait {
  args: [string, string, bigint];
  release: (caughtUp: boolean) => void;
}

describe('read-your-writes declared on the route', () => {
  const waits: Wait[] = [];
  let seen: CommandContext | undefined;
  let baseUrl = '';
  let close: () => Promise<void> = async () => undefined;
  const store = { marker: 'the store' } as unknown as EventStore;
  const commands: RouteCommandServices = {
    store,
    now: () => new Date('2026-03-01T00:00:00Z'),
    newId: () => 'fixed-id',
    waitForProjection: (name, streamId, revision) =>
      new Promise<boolean>((resolve) => {
        waits.push({ args: [name, streamId, revision], release: resolve });
      }),
  };

  const routes: AnyRouteDefinition[] = [
    defineRoute({
      method: 'post', path: '/things', summary: 'Write a thing', tags: ['test'], auth: 'none', waitFor: projection,
      responses: { 201: { description: 'Written' } },
      handler: async (ctx) => {
        seen = ctx.command;
        return { status: 201, body: { id: 't1' }, written: { streamId: 'thing-t1', revision: 4n } };
      },
    }),
    defineRoute({
      method: 'post', path: '/noop', summary: 'Write nothing', tags: ['test'], auth: 'required', waitFor: projection,
      responses: { 200: { description: 'Nothing written' } },
      handler: async (ctx) => {
        seen = ctx.command;
        return { status: 200, body: {}, written: { streamId: 'thing-t1', revision: null } };
      },
    }),
    defineRoute({
      method: 'put', path: '/things/:id', summary: 'Answer from the read model if it caught up', tags: ['test'], auth: 'none', waitFor: projection,
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: { description: 'Updated' } },
      handler: async (ctx) => {
        const written = { streamId: `thing-${ctx.params.id}`, revision: 7n };
        const caughtUp = await ctx.caughtUp(written);
        return { status: 200, body: { from: caughtUp ? 'read model' : 'outcome' }, written };
      },
    }),
  ];

  beforeAll(async () => {
    const config = loadConfig({ JWT_SECRET: SECRET, RATE_LIMIT_ENABLED: 'false' });
    const app = createHttpApp({ config, logger: pino({ level: 'silent' }), routes, tokens, sessions: { assertActive: async () => undefined }, readiness: [], commands });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
  });
  afterAll(() => close());
  beforeEach(() => {
    waits.length = 0;
    seen = undefined;
  });

  const until = async (condition: () => boolean) => {
    for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  it('answers only once the declared read model has applied what the command wrote', async () => {
    let answered = false;
    const response = fetch(`${baseUrl}/api/v1/things`, { method: 'POST', headers: { 'x-request-id': 'req-1' } }).then((res) => {
      answered = true;
      return res;
    });
    await until(() => waits.length === 1);
    expect(waits.map((wait) => wait.args)).toEqual([['things', 'thing-t1', 4n]]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    waits[0]!.release(true);
    const res = await response;
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: 't1' });
  });

  it('the answer is the same when the wait gives up (a slow projection, the bus down)', async () => {
    const response = fetch(`${baseUrl}/api/v1/things`, { method: 'POST' });
    await until(() => waits.length === 1);
    waits[0]!.release(false);
    const res = await response;
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: 't1' });
  });

  it('does not wait when nothing was written', async () => {
    const res = await fetch(`${baseUrl}/api/v1/noop`, { method: 'POST', headers: { authorization: `Bearer ${tokens.issue({ id: 'u1', username: 'alice' }).access_token}` } });
    expect(res.status).toBe(200);
    expect(waits).toHaveLength(0);
  });

  it('a handler that asked whether the read model caught up is not made to wait twice', async () => {
    const response = fetch(`${baseUrl}/api/v1/things/t9`, { method: 'PUT' });
    await until(() => waits.length === 1);
    waits[0]!.release(false);
    const res = await response;
    expect(await res.json()).toEqual({ from: 'outcome' });
    expect(waits.map((wait) => wait.args)).toEqual([['things', 'thing-t9', 7n]]);
  });

  it('gives every request a command context naming the request and the signed-in user', async () => {
    const first = fetch(`${baseUrl}/api/v1/things`, { method: 'POST', headers: { 'x-request-id': 'req-42' } });
    await until(() => waits.length === 1);
    waits[0]!.release(true);
    await first;
    expect(seen?.store).toBe(store);
    expect(seen?.now().toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(seen?.newId()).toBe('fixed-id');
    const requestId = seen?.metadata.correlationId;
    expect(typeof requestId).toBe('string');
    expect(seen?.metadata).toEqual({ correlationId: requestId, causationId: requestId });

    const token = tokens.issue({ id: 'u1', username: 'alice' }).access_token;
    await fetch(`${baseUrl}/api/v1/noop`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(seen?.metadata).toMatchObject({ userId: 'u1' });
  });
});
