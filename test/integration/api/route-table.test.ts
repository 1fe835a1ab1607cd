import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import pino from 'pino';
import { z } from 'zod';
import { createHttpApp } from '../../../src/api/http-app';
import { TokenService } from '../../../src/api/shared/auth/token-service';
import { ErrorBodySchema } from '../../../src/api/shared/error-mapping';
import { JsonText } from '../../../src/api/shared/json-text';
import { defineRoute, type AnyRouteDefinition } from '../../../src/api/shared/route';
import { loadConfig } from '../../../src/infrastructure/config/config';

/**
 * The route table (src/api/shared/route-table.ts) answers a request only as express's walk over
 * the router's layers would: the same route (the first registered that matches, literals without
 * case), the same decoded parameters, the same request fields, the same errors; every request it
 * does not take goes to express as before. Each case below names which route answered.
 */

const SECRET = 'route-table-test-secret-at-least-32-characters!';
const tokens = new TokenService({ secret: SECRET, accessTokenTtlSec: 3600, refreshTokenTtlSec: 86400 });
const everySessionActive = { assertActive: async () => undefined };

const echo =
  (name: string) =>
  async ({ params, req }: { params: unknown; req: { url: string; baseUrl: string; originalUrl: string } }) => ({
    status: 200,
    body: { route: name, params: params ?? null, url: req.url, baseUrl: req.baseUrl, originalUrl: req.originalUrl },
  });

const routes: AnyRouteDefinition[] = [
  defineRoute({
    method: 'get',
    path: '/prepared/json',
    summary: 'A JsonText answer (as the session list sends)',
    tags: ['test'],
    auth: 'none',
    responses: { 200: { description: 'JSON' } },
    handler: async () => ({ status: 200, body: new JsonText(JSON.stringify({ prepared: 'é', n: [1, 2] })) }),
  }),
  defineRoute({
    method: 'get',
    path: '/plain/json',
    summary: 'The same value through res.json',
    tags: ['test'],
    auth: 'none',
    responses: { 200: { description: 'JSON' } },
    handler: async () => ({ status: 200, body: { prepared: 'é', n: [1, 2] } }),
  }),
  // A one-segment parameter route first: express serves /openapi.json (registered before any route) all the same.
  defineRoute({
    method: 'get',
    path: '/:section',
    summary: 'Any section',
    tags: ['test'],
    auth: 'none',
    request: { params: z.object({ section: z.string() }) },
    responses: { 200: { description: 'Echo' } },
    handler: echo('section'),
  }),
  // Registered before the literal route that it also matches: express gives it /items/special.
  defineRoute({
    method: 'get',
    path: '/items/:id',
    summary: 'An item',
    tags: ['test'],
    auth: 'none',
    request: { params: z.object({ id: z.string() }) },
    responses: { 200: { description: 'Echo' } },
    handler: echo('item'),
  }),
  defineRoute({
    method: 'get',
    path: '/items/special',
    summary: 'Never reached by GET: /items/:id comes first',
    tags: ['test'],
    auth: 'none',
    responses: { 200: { description: 'Echo' } },
    handler: echo('special'),
  }),
  defineRoute({
    method: 'post',
    path: '/items/special',
    summary: 'The literal route of another method',
    tags: ['test'],
    auth: 'none',
    request: { body: z.object({ n: z.number() }) },
    responses: { 200: { description: 'Echo' } },
    handler: async ({ body, req }) => ({ status: 200, body: { route: 'special-post', n: body.n, baseUrl: req.baseUrl } }),
  }),
  defineRoute({
    method: 'get',
    path: '/owners/:ownerId/items/:itemId',
    summary: 'Two parameters',
    tags: ['test'],
    auth: 'required',
    request: { params: z.object({ ownerId: z.string(), itemId: z.string() }), query: z.object({ q: z.string().optional() }) },
    responses: { 200: { description: 'Echo' } },
    handler: async ({ params, query, user, req }) => ({ status: 200, body: { route: 'owned', params, query, user: user.id, url: req.url } }),
  }),
  defineRoute({
    method: 'delete',
    path: '/owners/:ownerId/items/:itemId',
    summary: 'Fails',
    tags: ['test'],
    auth: 'none',
    request: { params: z.object({ ownerId: z.string(), itemId: z.string().regex(/^\d+$/, 'must be digits') }) },
    responses: { 204: { description: 'Gone' } },
    handler: async () => {
      throw new Error('delete failed');
    },
  }),
];

describe('the route table answers as express would have', () => {
  let server: Server;
  let baseUrl: string;
  const token = tokens.issue({ id: 'user-ada', username: 'ada', sessionId: 'session-1' }).access_token;

  beforeAll(async () => {
    const app = createHttpApp({
      config: loadConfig({ JWT_SECRET: SECRET, RATE_LIMIT_ENABLED: 'false' }),
      logger: pino({ level: 'silent' }),
      routes,
      tokens,
      sessions: everySessionActive,
      readiness: [],
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${baseUrl}${path}`, { headers });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('gives a path to the first registered route that matches it, not to a literal route registered later', async () => {
    expect(await get('/api/v1/items/special')).toEqual({
      status: 200,
      body: { route: 'item', params: { id: 'special' }, url: '/items/special', baseUrl: '/api/v1', originalUrl: '/api/v1/items/special' },
    });
    const posted = await fetch(`${baseUrl}/api/v1/items/special`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":3}' });
    expect(await posted.json()).toEqual({ route: 'special-post', n: 3, baseUrl: '/api/v1' });
  });

  it('serves /openapi.json from express although a one-segment parameter route was registered first', async () => {
    const { status, body } = await get('/api/v1/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect((await get('/api/v1/anything')).body).toMatchObject({ route: 'section', params: { section: 'anything' } });
  });

  it('decodes parameters, keeps the query, and matches literals without case and with a trailing slash', async () => {
    expect((await get('/api/v1/items/a%20b%2Fc?x=1')).body).toEqual({
      route: 'item',
      params: { id: 'a b/c' },
      url: '/items/a%20b%2Fc?x=1',
      baseUrl: '/api/v1',
      originalUrl: '/api/v1/items/a%20b%2Fc?x=1',
    });
    expect((await get('/api/v1/ITEMS/Mixed')).body).toMatchObject({ route: 'item', params: { id: 'Mixed' } });
    expect((await get('/api/v1/items/7/')).body).toMatchObject({ route: 'item', params: { id: '7' } });
    expect((await get('/api/v1/owners/o%C3%A9/items/42?q=%C3%A9', { authorization: `Bearer ${token}` })).body).toEqual({
      route: 'owned',
      params: { ownerId: 'oé', itemId: '42' },
      query: { q: 'é' },
      user: 'user-ada',
      url: '/owners/o%C3%A9/items/42?q=%C3%A9',
    });
  });

  it('answers an undecodable parameter, a missing token, a failing handler and an unknown path with the contract errors', async () => {
    const undecodable = await get('/api/v1/items/%E0%A4%A');
    expect(undecodable.status).toBe(400);
    expect(ErrorBodySchema.parse(undecodable.body).status_code).toBe(400);

    const unauthenticated = await fetch(`${baseUrl}/api/v1/owners/o/items/1`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toBe('Bearer');
    expect(ErrorBodySchema.parse(await unauthenticated.json()).code).toBe('UNAUTHORIZED');

    // A parameter its schema refuses: the route's 404, as for any route.
    const invalid = await fetch(`${baseUrl}/api/v1/owners/o/items/x`, { method: 'DELETE' });
    expect(invalid.status).toBe(404);
    const failed = await fetch(`${baseUrl}/api/v1/owners/o/items/1`, { method: 'DELETE' });
    expect(failed.status).toBe(500);
    expect(ErrorBodySchema.parse(await failed.json()).details).toEqual({ request_id: failed.headers.get('x-request-id') });

    const unknown = await get('/api/v1/items/1/2/3');
    expect(unknown.status).toBe(404);
    expect(ErrorBodySchema.parse(unknown.body).code).toBe('NOT_FOUND');
  });

  it('leaves HEAD, OPTIONS and unsupported methods to express (405 with Allow)', async () => {
    expect((await fetch(`${baseUrl}/api/v1/items/1`, { method: 'HEAD' })).status).toBe(200);
    const options = await fetch(`${baseUrl}/api/v1/owners/o/items/1`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS');
    const put = await fetch(`${baseUrl}/api/v1/owners/o/items/1`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS');
    // /items/:id's answer for other methods comes first on /items/special too (registered first).
    const shadowed = await fetch(`${baseUrl}/api/v1/items/special`, { method: 'PUT' });
    expect(shadowed.status).toBe(405);
    expect(shadowed.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('sends a JsonText answer with the bytes and headers of res.json, for GET and HEAD, and 304 to a client that has it', async () => {
    const answer = (path: string, method: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number | undefined; headers: string[]; body: string }>((resolve, reject) => {
        const request = httpRequest(`${baseUrl}/api/v1${path}`, { method, headers }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            // Everything but the request id and the date, which differ by request.
            const varying = (name: string | undefined) => /^(x-request-id|date)$/i.test(name ?? '');
            const kept = response.rawHeaders.filter((_, index, all) => !varying(index % 2 === 0 ? all[index] : all[index - 1]));
            resolve({ status: response.statusCode, headers: kept, body: Buffer.concat(chunks).toString('utf8') });
          });
        });
        request.on('error', reject);
        request.end();
      });
    for (const method of ['GET', 'HEAD']) {
      const prepared = await answer('/prepared/json', method);
      expect(prepared).toEqual(await answer('/plain/json', method));
      expect(prepared.body).toBe(method === 'GET' ? '{"prepared":"é","n":[1,2]}' : '');
    }
    const { headers } = await answer('/prepared/json', 'GET');
    const etag = headers[headers.findIndex((name) => /^etag$/i.test(name)) + 1]!;
    expect((await answer('/prepared/json', 'GET', { 'if-none-match': etag })).status).toBe(304);
    expect((await answer('/prepared/json', 'GET', { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('labels the request metrics with the route pattern under the base path', async () => {
    await get('/api/v1/owners/o/items/9', { authorization: `Bearer ${token}` });
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/arena_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/owners\/:ownerId\/items\/:itemId",status="200"\} \d+/);
    expect(metrics).not.toContain('route="/api/v1/owners/o/items/9"');
  });
});
