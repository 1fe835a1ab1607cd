import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import { z } from 'zod';
import { createHttpApp } from '../../../src/api/http-app';
import { TokenService } from '../../../src/api/shared/auth/token-service';
import { ErrorBodySchema } from '../../../src/api/shared/error-mapping';
import { defineRoute, type AnyRouteDefinition } from '../../../src/api/shared/route';
import { ForbiddenError, UnauthorizedError } from '../../../src/domain/shared/errors';
import { loadConfig } from '../../../src/infrastructure/config/config';

const SECRET = 'integration-test-secret-at-least-32-characters';
const tokens = new TokenService({ secret: SECRET, accessTokenTtlSec: 3600, refreshTokenTtlSec: 86400 });
const alice = { id: 'user-alice', username: 'alice' };
/** These tests are about the HTTP conventions; the session check against the event store is tested end to end (test/e2e/tokens.test.ts). */
const everySessionActive = { assertActive: async () => undefined };
const bob = { id: 'user-bob', username: 'bob' };

// ---- throwaway routes exercising the conventions -------------------------------------------

const UploadBody = z.object({
  email: z.email(),
  data_points: z.array(z.object({ speed_kmh: z.number().max(400) })),
});

const testRoutes: AnyRouteDefinition[] = [
  defineRoute({
    method: 'post',
    path: '/things',
    summary: 'Create a thing',
    tags: ['test'],
    auth: 'none',
    request: { body: UploadBody },
    responses: { 201: { description: 'Created', schema: z.object({ points: z.number() }) } },
    handler: async ({ body }) => ({ status: 201, body: { points: body.data_points.length } }),
  }),
  defineRoute({
    method: 'get',
    path: '/things/:id',
    summary: 'Get a thing',
    tags: ['test'],
    auth: 'required',
    request: { params: z.object({ id: z.string().regex(/^\d+$/, 'must be digits') }), query: z.object({ verbose: z.enum(['true', 'false']).optional() }) },
    responses: { 200: { description: 'The thing' }, 404: { description: 'No such thing' } },
    handler: async ({ params, query, user, requestId }) => ({
      status: 200,
      body: { id: params.id, verbose: query.verbose ?? null, user, requestId },
      headers: { 'X-Thing': 'yes' },
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/uploads',
    summary: 'Multipart upload read by the handler',
    tags: ['test'],
    auth: 'none',
    documentedBody: {
      contentType: 'multipart/form-data',
      schema: z.object({ owner: z.string(), file: z.string().meta({ format: 'binary' }) }),
    },
    responses: { 201: { description: 'Stored' } },
    handler: async ({ req }) => ({ status: 201, body: { contentType: req.headers['content-type'] ?? null } }),
  }),
  defineRoute({
    method: 'get',
    path: '/maybe',
    summary: 'Optional auth',
    tags: ['test'],
    auth: 'optional',
    responses: { 200: { description: 'Who is asking' } },
    handler: async ({ user }) => ({ status: 200, body: { user: user ?? null } }),
  }),
  defineRoute({
    method: 'post',
    path: '/login-like',
    summary: 'Auth-category route',
    tags: ['test'],
    auth: 'none',
    rateLimit: 'auth',
    responses: { 204: { description: 'Done' } },
    handler: async () => ({ status: 204 }),
  }),
  defineRoute({
    method: 'post',
    path: '/runner-like',
    summary: 'Trainer-runner route (a budget per runner token)',
    tags: ['test'],
    auth: 'none',
    rateLimit: 'runner',
    responses: { 204: { description: 'Reported' } },
    handler: async () => ({ status: 204 }),
  }),
  defineRoute({
    method: 'get',
    path: '/laps-like',
    summary: 'LapXcel-family route (hourly budget)',
    tags: ['test'],
    auth: 'optional',
    rateLimit: 'lapxcel',
    responses: { 200: { description: 'Laps' } },
    handler: async () => ({ status: 200, body: {} }),
  }),
  defineRoute({
    method: 'post',
    path: '/bridge-like',
    summary: 'LapXcel route that also draws from an RL-Arena budget',
    tags: ['test'],
    auth: 'required',
    rateLimit: ['submissions', 'lapxcel'],
    responses: { 201: { description: 'Bridged' } },
    handler: async () => ({ status: 201, body: {} }),
  }),
  defineRoute({
    method: 'get',
    path: '/boom',
    summary: 'Throws an unexpected error',
    tags: ['test'],
    auth: 'none',
    responses: {},
    handler: async () => {
      throw new Error('database password is hunter2');
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/forbidden',
    summary: 'Throws a domain error',
    tags: ['test'],
    auth: 'none',
    responses: { 403: { description: 'Never yours' } },
    handler: async () => {
      throw new ForbiddenError('Not the owner', { owner_id: 'someone-else' });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/page',
    summary: 'Writes HTML itself',
    tags: ['test'],
    auth: 'none',
    responses: { 200: { description: 'A page', contentType: 'text/html' } },
    handler: async ({ res }) => {
      res.type('html').send('<h1>replay</h1>');
      return 'handled';
    },
  }),
];

// ---- harness ---------------------------------------------------------------------------------

interface RunningApp {
  baseUrl: string;
  close(): Promise<void>;
}

async function listen(app: Express): Promise<RunningApp> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function waitForLog(lines: string[], needle: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const line = lines.find((l) => l.includes(needle));
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no log line containing ${needle}`);
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function expectErrorBody(response: Response, status: number, errorType: string, code: string): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  const body: unknown = await response.json();
  const parsed = ErrorBodySchema.parse(body);
  expect(parsed.status_code).toBe(status);
  expect(parsed.error_type).toBe(errorType);
  expect(parsed.code).toBe(code);
  expect(parsed.error).toBe(parsed.detail);
  return parsed.details;
}

// ---- the app without rate limits: conventions other than limiting ---------------------------

describe('createHttpApp', () => {
  let readinessMode: 'ok' | 'reject' | 'hang' = 'ok';
  const { logger, lines } = capturingLogger();
  let running: RunningApp;

  beforeAll(async () => {
    const config = loadConfig({ JWT_SECRET: SECRET, BODY_LIMIT_BYTES: '1024', RATE_LIMIT_ENABLED: 'false' });
    const app = createHttpApp({
      config,
      logger,
      routes: testRoutes,
      tokens,
      sessions: everySessionActive,
      readinessTimeoutMs: 200,
      readiness: [
        {
          name: 'database',
          check: () => (readinessMode === 'ok' ? Promise.resolve() : readinessMode === 'reject' ? Promise.reject(new Error('ECONNREFUSED')) : new Promise<void>(() => undefined)),
        },
        { name: 'bus', check: async () => undefined },
      ],
    });
    running = await listen(app);
  });
  afterAll(async () => {
    await running.close();
  });

  const url = (path: string) => `${running.baseUrl}${path}`;
  const postJson = (path: string, body: string) => fetch(url(path), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });

  describe('validation', () => {
    it('answers 400 with the superset body naming each bad field', async () => {
      const response = await postJson('/api/v1/things', JSON.stringify({ email: 'nope', data_points: [{ speed_kmh: 1 }, { speed_kmh: 2 }, { speed_kmh: 3 }, { speed_kmh: 999 }] }));
      const details = await expectErrorBody(response, 400, 'ValidationError', 'VALIDATION_ERROR');
      expect(details).toEqual({
        location: 'body',
        fields: { email: 'Invalid email address', 'data_points.3.speed_kmh': expect.stringMatching(/^Too big/) },
      });
    });

    it('passes parsed input to the handler', async () => {
      const response = await postJson('/api/v1/things', JSON.stringify({ email: 'a@example.com', data_points: [{ speed_kmh: 245.5 }] }));
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ points: 1 });
    });

    it('validates params and query too; a path parameter outside the id format is unknown: 404', async () => {
      const token = tokens.issue(alice).access_token;
      const badParam = await fetch(url('/api/v1/things/abc'), { headers: bearer(token) });
      expect(await expectErrorBody(badParam, 404, 'NotFoundError', 'NOT_FOUND')).toEqual({ location: 'params', fields: { id: 'must be digits' } });
      const badQuery = await fetch(url('/api/v1/things/1?verbose=maybe'), { headers: bearer(token) });
      const details = await expectErrorBody(badQuery, 400, 'ValidationError', 'VALIDATION_ERROR');
      expect(details.location).toBe('query');
    });

    it('answers 400 on an undecodable path parameter', async () => {
      const response = await fetch(url('/api/v1/things/%E0'), { headers: bearer(tokens.issue(alice).access_token) });
      await expectErrorBody(response, 400, 'ValidationError', 'VALIDATION_ERROR');
    });

    it('answers 400 on malformed JSON', async () => {
      const details = await expectErrorBody(await postJson('/api/v1/things', '{"email": '), 400, 'ValidationError', 'VALIDATION_ERROR');
      expect(details).toEqual({});
    });

    it('answers 413 on a body over BODY_LIMIT_BYTES', async () => {
      const big = JSON.stringify({ email: 'a@example.com', data_points: Array.from({ length: 200 }, () => ({ speed_kmh: 100 })) });
      expect(big.length).toBeGreaterThan(1024);
      const details = await expectErrorBody(await postJson('/api/v1/things', big), 413, 'PayloadTooLargeError', 'PAYLOAD_TOO_LARGE');
      expect(details).toEqual({ limit_bytes: 1024 });
    });
  });

  describe('errors', () => {
    it.each([
      ['GET', '/api/v1/nope'],
      ['DELETE', '/somewhere/else'],
    ])('answers 404 with the contract body for %s %s', async (method, path) => {
      await expectErrorBody(await fetch(url(path), { method }), 404, 'NotFoundError', 'NOT_FOUND');
    });

    it('maps domain errors with their details', async () => {
      const details = await expectErrorBody(await fetch(url('/api/v1/forbidden'), { method: 'DELETE' }), 403, 'ForbiddenError', 'FORBIDDEN');
      expect(details).toEqual({ owner_id: 'someone-else' });
    });

    it('hides an unexpected error behind a generic 500 and logs it with the request id', async () => {
      const response = await fetch(url('/api/v1/boom'));
      const requestId = response.headers.get('x-request-id');
      const text = await response.clone().text();
      expect(text).not.toContain('hunter2');
      expect(text).not.toMatch(/at .*\.ts:\d+/);
      const details = await expectErrorBody(response, 500, 'InternalServerError', 'INTERNAL_ERROR');
      expect(details).toEqual({ request_id: requestId });
      // The log, unlike the response, carries the real error next to the request id.
      const line = await waitForLog(lines, `"requestId":"${String(requestId)}"`);
      expect(JSON.parse(line)).toMatchObject({ level: 50, res: { statusCode: 500 }, err: { message: 'database password is hunter2' } });
    });
  });

  describe('authentication', () => {
    it('rejects a missing token with 401', async () => {
      const response = await fetch(url('/api/v1/things/1'));
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      await expectErrorBody(response, 401, 'UnauthorizedError', 'UNAUTHORIZED');
    });

    it('rejects a garbage token with 401', async () => {
      await expectErrorBody(await fetch(url('/api/v1/things/1'), { headers: bearer('garbage.token.here') }), 401, 'UnauthorizedError', 'UNAUTHORIZED');
    });

    it('rejects an expired token with 401', async () => {
      const issuedLongAgo = new TokenService({ secret: SECRET, accessTokenTtlSec: 60, refreshTokenTtlSec: 60, now: () => Date.now() - 3_600_000 });
      const response = await fetch(url('/api/v1/things/1'), { headers: bearer(issuedLongAgo.issue(alice).access_token) });
      await expectErrorBody(response.clone(), 401, 'UnauthorizedError', 'UNAUTHORIZED');
      expect(((await response.json()) as { detail: string }).detail).toBe('Token expired');
    });

    it('rejects a refresh token used as an access token', async () => {
      await expectErrorBody(await fetch(url('/api/v1/things/1'), { headers: bearer(tokens.issue(alice).refresh_token) }), 401, 'UnauthorizedError', 'UNAUTHORIZED');
    });

    it('rejects a token signed with another secret', async () => {
      const forger = new TokenService({ secret: 'some-other-secret-that-is-32-chars-long!', accessTokenTtlSec: 60, refreshTokenTtlSec: 60 });
      await expectErrorBody(await fetch(url('/api/v1/things/1'), { headers: bearer(forger.issue(alice).access_token) }), 401, 'UnauthorizedError', 'UNAUTHORIZED');
    });

    it('answers 405 with Allow and the contract body for a method a known path does not take', async () => {
      const response = await fetch(url('/api/v1/things'), { method: 'PUT' });
      expect(response.headers.get('allow')).toContain('POST');
      await expectErrorBody(response, 405, 'MethodNotAllowedError', 'METHOD_NOT_ALLOWED');
    });

    it('pins HS256: a token with another algorithm or none is rejected even with the right secret', async () => {
      const claims = { sub: alice.id, username: alice.username, typ: 'access', exp: Math.floor(Date.now() / 1000) + 60 };
      for (const forged of [jwt.sign(claims, SECRET, { algorithm: 'HS512' }), jwt.sign(claims, null, { algorithm: 'none' })]) {
        await expectErrorBody(await fetch(url('/api/v1/things/1'), { headers: bearer(forged) }), 401, 'UnauthorizedError', 'UNAUTHORIZED');
      }
      // Control: the same claims signed HS256 are accepted, so the rejections above are about the algorithm.
      expect((await fetch(url('/api/v1/things/1'), { headers: bearer(jwt.sign(claims, SECRET, { algorithm: 'HS256' })) })).status).toBe(200);
    });

    it('hands a valid token user, parsed input and headers through to the handler', async () => {
      const response = await fetch(url('/api/v1/things/42?verbose=true'), { headers: bearer(tokens.issue(alice).access_token) });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-thing')).toBe('yes');
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toEqual({ id: '42', verbose: 'true', user: alice, requestId: response.headers.get('x-request-id') });
    });

    it('serves optional-auth routes with or without a (valid) token', async () => {
      const anonymous = await fetch(url('/api/v1/maybe'));
      expect(await anonymous.json()).toEqual({ user: null });
      const signedIn = await fetch(url('/api/v1/maybe'), { headers: bearer(tokens.issue(bob).access_token) });
      expect(await signedIn.json()).toEqual({ user: bob });
      const badToken = await fetch(url('/api/v1/maybe'), { headers: bearer('garbage') });
      expect(badToken.status).toBe(200);
      expect(await badToken.json()).toEqual({ user: null });
    });
  });

  describe('request ids and logs', () => {
    it('echoes a sane X-Request-Id and replaces an insane one', async () => {
      const echoed = await fetch(url('/healthz'), { headers: { 'X-Request-Id': 'trace-abc.123' } });
      expect(echoed.headers.get('x-request-id')).toBe('trace-abc.123');
      const replaced = await fetch(url('/healthz'), { headers: { 'X-Request-Id': 'has spaces <script>' } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const generated = await fetch(url('/api/v1/nope'));
      expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('logs each request with its id but without the token from the header or the query', async () => {
      const token = tokens.issue(alice).access_token;
      const requestId = 'log-check-1';
      await fetch(url(`/api/v1/maybe?token=${token}&x=1`), { headers: { ...bearer(token), 'X-Request-Id': requestId } });
      const line = await waitForLog(lines, requestId);
      const entry = JSON.parse(line) as { requestId: string; req: { url: string; method: string }; res: { statusCode: number } };
      expect(entry.requestId).toBe(requestId);
      expect(entry.req.method).toBe('GET');
      expect(entry.req.url).toContain('token=%5Bredacted%5D');
      expect(entry.res.statusCode).toBe(200);
      expect(lines.join('\n')).not.toContain(token);
    });
  });

  describe('health', () => {
    it('answers /healthz while the process is up', async () => {
      const response = await fetch(url('/healthz'));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    });

    it('answers /readyz 200 only when every check passes, else 503 naming the failed one', async () => {
      readinessMode = 'ok';
      const ready = await fetch(url('/readyz'));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', bus: 'ok' } });

      readinessMode = 'reject';
      const rejected = await fetch(url('/readyz'));
      const details = await expectErrorBody(rejected, 503, 'UnavailableError', 'SERVICE_UNAVAILABLE');
      expect(details).toEqual({ failed: ['database'], checks: { database: 'failed', bus: 'ok' } });
      expect(JSON.stringify(details)).not.toContain('ECONNREFUSED');

      readinessMode = 'hang';
      const startedAt = Date.now();
      const hanging = await fetch(url('/readyz'));
      expect(Date.now() - startedAt).toBeLessThan(2000);
      expect(await expectErrorBody(hanging, 503, 'UnavailableError', 'SERVICE_UNAVAILABLE')).toEqual({
        failed: ['database'],
        checks: { database: 'timed_out', bus: 'ok' },
      });
      readinessMode = 'ok';
    });
  });

  describe('documentation', () => {
    it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
      const response = await fetch(url('/api/v1/openapi.json'));
      expect(response.status).toBe(200);
      const document = (await response.json()) as {
        openapi: string;
        servers: { url: string }[];
        paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required: string[] } }> }; parameters?: { name: string; in: string }[]; security?: unknown[]; responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>>;
        components: { securitySchemes: Record<string, { type: string; scheme: string }>; schemas: Record<string, { properties: Record<string, unknown> }> };
      };
      expect(document.openapi).toBe('3.1.0');
      expect(document.servers).toEqual([{ url: '/api/v1' }]);

      const create = document.paths['/things']?.post;
      const bodySchema = create?.requestBody?.content['application/json']?.schema;
      expect(Object.keys(bodySchema?.properties ?? {})).toEqual(['email', 'data_points']);
      expect(bodySchema?.required).toEqual(['email', 'data_points']);
      expect(create?.responses['400']?.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/ErrorBody');

      const upload = document.paths['/uploads']?.post?.requestBody?.content['multipart/form-data']?.schema;
      expect(Object.keys(upload?.properties ?? {})).toEqual(['owner', 'file']);
      expect(upload?.properties.file).toMatchObject({ type: 'string', format: 'binary' });

      const get = document.paths['/things/{id}']?.get;
      expect(get?.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path' }), expect.objectContaining({ name: 'verbose', in: 'query' })]));
      expect(get?.security).toEqual([{ bearerAuth: [] }]);
      expect(get?.responses['401']?.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/ErrorBody');
      expect(get?.responses['404']?.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/ErrorBody');
      expect(document.paths['/maybe']?.get?.security).toEqual([{ bearerAuth: [] }, {}]);
      expect(document.paths['/page']?.get?.responses['200']?.content?.['text/html']).toBeDefined();

      expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(Object.keys(document.components.schemas.ErrorBody?.properties ?? {})).toEqual(['detail', 'status_code', 'error_type', 'error', 'code', 'details']);
    });

    it('serves Swagger UI at /swagger', async () => {
      const response = await fetch(url('/swagger'));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      expect(await response.text()).toContain('swagger-ui');
    });

    it('lets a handler write its own response', async () => {
      const response = await fetch(url('/api/v1/page'));
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      expect(await response.text()).toBe('<h1>replay</h1>');
    });
  });

  it('sends no rate-limit headers when RATE_LIMIT_ENABLED=false', async () => {
    const response = await fetch(url('/api/v1/maybe'));
    expect(response.headers.get('x-ratelimit-limit')).toBeNull();
  });
});

// ---- rate limiting, on an app with tiny limits -------------------------------------------------

describe('createHttpApp rate limiting', () => {
  let running: RunningApp;

  beforeAll(async () => {
    const config = loadConfig({ JWT_SECRET: SECRET, RATE_LIMIT_DEFAULT_PER_MIN: '3', RATE_LIMIT_AUTH_PER_MIN: '2' });
    running = await listen(createHttpApp({ config, logger: pino({ level: 'silent' }), routes: testRoutes, tokens, sessions: everySessionActive, readiness: [] }));
  });
  afterAll(async () => {
    await running.close();
  });

  it('sends X-RateLimit-* headers and answers 429 with the contract body past the limit, per user', async () => {
    const aliceHeaders = bearer(tokens.issue(alice).access_token);
    const nowSec = Math.floor(Date.now() / 1000);
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${running.baseUrl}/api/v1/maybe`, { headers: aliceHeaders });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBe('3');
      remaining.push(response.headers.get('x-ratelimit-remaining'));
      const resetSec = Number(response.headers.get('x-ratelimit-reset'));
      // The window (60 s) starts at the first request, somewhere between nowSec and this answer.
      const answeredSec = Math.ceil(Date.now() / 1000);
      expect(resetSec).toBeGreaterThanOrEqual(nowSec);
      expect(resetSec).toBeLessThanOrEqual(answeredSec + 60);
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await fetch(`${running.baseUrl}/api/v1/maybe`, { headers: aliceHeaders });
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('retry-after')).not.toBeNull();
    const details = await expectErrorBody(limited, 429, 'RateLimitedError', 'RATE_LIMIT_EXCEEDED');
    expect(details).toEqual({ category: 'default', limit: 3, window_sec: 60 });

    // Another user has a budget of their own; anonymous callers are counted per address.
    const asBob = await fetch(`${running.baseUrl}/api/v1/maybe`, { headers: bearer(tokens.issue(bob).access_token) });
    expect(asBob.status).toBe(200);
    expect(asBob.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  it('limits the auth category per client address with its own budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${running.baseUrl}/api/v1/login-like`, { method: 'POST' });
      statuses.push(response.status);
      expect(response.headers.get('x-ratelimit-limit')).toBe('2');
    }
    expect(statuses).toEqual([204, 204, 429]);
  });

  it('counts requests with a bad token against the address before answering 401', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await fetch(`${running.baseUrl}/api/v1/things/1`, { headers: bearer('guess') })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('does not limit health probes', async () => {
    for (let i = 0; i < 5; i += 1) expect((await fetch(`${running.baseUrl}/healthz`)).status).toBe(200);
  });
});

// ---- the two contracts' limits side by side -----------------------------------------------------

describe('createHttpApp rate limiting per contract', () => {
  let running: RunningApp;

  beforeAll(async () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      RATE_LIMIT_AUTH_PER_MIN: '4',
      RATE_LIMIT_SUBMISSIONS_PER_MIN: '2',
      RATE_LIMIT_LAPXCEL_USER_PER_HOUR: '6',
      RATE_LIMIT_LAPXCEL_ANONYMOUS_PER_HOUR: '3',
      RATE_LIMIT_RUNNER_PER_HOUR: '2',
    });
    running = await listen(createHttpApp({ config, logger: pino({ level: 'silent' }), routes: testRoutes, tokens, sessions: everySessionActive, readiness: [] }));
  });
  afterAll(async () => {
    await running.close();
  });

  const headersOf = (response: Response) => ({
    limit: response.headers.get('x-ratelimit-limit'),
    remaining: response.headers.get('x-ratelimit-remaining'),
    resetInSec: Number(response.headers.get('x-ratelimit-reset')) - Math.floor(Date.now() / 1000),
  });

  it('gives LapXcel routes an hourly budget: per user when signed in, per address when anonymous', async () => {
    const carol = bearer(tokens.issue({ id: 'user-carol', username: 'carol' }).access_token);
    const signedIn = await fetch(`${running.baseUrl}/api/v1/laps-like`, { headers: carol });
    expect(headersOf(signedIn)).toMatchObject({ limit: '6', remaining: '5' });
    expect(headersOf(signedIn).resetInSec).toBeGreaterThan(3000);
    expect(headersOf(signedIn).resetInSec).toBeLessThanOrEqual(3601);

    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await fetch(`${running.baseUrl}/api/v1/laps-like`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await fetch(`${running.baseUrl}/api/v1/laps-like`);
    expect(headersOf(limited)).toMatchObject({ limit: '3', remaining: '0' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect(await expectErrorBody(limited, 429, 'RateLimitedError', 'RATE_LIMIT_EXCEEDED')).toEqual({ category: 'lapxcel', limit: 3, window_sec: 3600 });
    // The signed-in user's budget is their own, untouched by the anonymous flood from the same address.
    expect(headersOf(await fetch(`${running.baseUrl}/api/v1/laps-like`, { headers: carol }))).toMatchObject({ limit: '6', remaining: '4' });
  });

  it('gives trainer runners a budget per runner token, apart from the anonymous LapXcel budget', async () => {
    const report = (token: string) => fetch(`${running.baseUrl}/api/v1/runner-like`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect([(await report('lxrt_a.1')).status, (await report('lxrt_a.1')).status]).toEqual([204, 204]);
    const refused = await report('lxrt_a.1');
    expect(await expectErrorBody(refused, 429, 'RateLimitedError', 'RATE_LIMIT_EXCEEDED')).toEqual({ category: 'runner', limit: 2, window_sec: 3600 });
    // Another runner from the same address has its own budget.
    expect((await report('lxrt_b.2')).status).toBe(204);
  });

  it('applies both contracts to a route in both, and the headers describe the budget that runs out first', async () => {
    const dave = bearer(tokens.issue({ id: 'user-dave', username: 'dave' }).access_token);
    const first = await fetch(`${running.baseUrl}/api/v1/bridge-like`, { method: 'POST', headers: dave });
    expect(first.status).toBe(201);
    // submissions 2/min (1 left) is closer to running out than LapXcel's 6/h (5 left).
    expect(headersOf(first)).toMatchObject({ limit: '2', remaining: '1' });
    expect(headersOf(first).resetInSec).toBeLessThanOrEqual(61);
    await fetch(`${running.baseUrl}/api/v1/bridge-like`, { method: 'POST', headers: dave });
    const third = await fetch(`${running.baseUrl}/api/v1/bridge-like`, { method: 'POST', headers: dave });
    expect(await expectErrorBody(third, 429, 'RateLimitedError', 'RATE_LIMIT_EXCEEDED')).toEqual({ category: 'submissions', limit: 2, window_sec: 60 });
  });
});

describe('createHttpApp: auth routes get the stricter of both contracts', () => {
  let running: RunningApp;

  beforeAll(async () => {
    // RL-Arena allows 4 a minute here, LapXcel 3 anonymous requests an hour: the hourly one binds.
    const config = loadConfig({ JWT_SECRET: SECRET, RATE_LIMIT_AUTH_PER_MIN: '4', RATE_LIMIT_LAPXCEL_ANONYMOUS_PER_HOUR: '3' });
    running = await listen(createHttpApp({ config, logger: pino({ level: 'silent' }), routes: testRoutes, tokens, sessions: everySessionActive, readiness: [] }));
  });
  afterAll(async () => {
    await running.close();
  });

  it('refuses the 4th login in the hour although the per-minute budget has room, naming the hourly budget', async () => {
    const seen: Array<[number, string | null, string | null]> = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await fetch(`${running.baseUrl}/api/v1/login-like`, { method: 'POST' });
      seen.push([response.status, response.headers.get('x-ratelimit-limit'), response.headers.get('x-ratelimit-remaining')]);
      if (response.status === 429) {
        expect(await expectErrorBody(response, 429, 'RateLimitedError', 'RATE_LIMIT_EXCEEDED')).toEqual({ category: 'auth', limit: 3, window_sec: 3600 });
      }
    }
    expect(seen).toEqual([
      [204, '3', '2'],
      [204, '3', '1'],
      [204, '3', '0'],
      [429, '3', '0'],
    ]);
    // Logins have an hourly count of their own: anonymous browsing still has its full budget, and the reverse.
    const browsing = await fetch(`${running.baseUrl}/api/v1/laps-like`);
    expect([browsing.status, browsing.headers.get('x-ratelimit-remaining')]).toEqual([200, '2']);
  });
});

describe('createHttpApp: a token verified before (VerifiedTokens)', () => {
  let running: RunningApp;
  let revoked = false;
  let sessionChecks = 0;
  /** Stands for the session guard: revocations take effect between two requests of the same token. */
  const switchableSessions = {
    assertActive: async () => {
      sessionChecks += 1;
      if (revoked) throw new UnauthorizedError('Session revoked: sign in again');
    },
  };

  beforeAll(async () => {
    const config = loadConfig({ JWT_SECRET: SECRET, RATE_LIMIT_ENABLED: 'false' });
    running = await listen(createHttpApp({ config, logger: pino({ level: 'silent' }), routes: testRoutes, tokens, sessions: switchableSessions, readiness: [] }));
  });
  afterAll(async () => {
    await running.close();
  });

  const thing = (token: string) => fetch(`${running.baseUrl}/api/v1/things/1`, { headers: bearer(token) });

  it('still asks the session check on every request, and refuses a revoked session with a token it verified before', async () => {
    const token = tokens.issue(alice).access_token;
    sessionChecks = 0;
    expect((await thing(token)).status).toBe(200);
    expect((await thing(token)).status).toBe(200);
    expect(sessionChecks).toBe(2);
    revoked = true;
    try {
      const refused = await thing(token);
      await expectErrorBody(refused.clone(), 401, 'UnauthorizedError', 'UNAUTHORIZED');
      expect(((await refused.json()) as { detail: string }).detail).toBe('Session revoked: sign in again');
      expect(sessionChecks).toBe(3);
    } finally {
      revoked = false;
    }
  });

  it('refuses a token verified before once it has expired, as "Token expired"', async () => {
    const shortLived = new TokenService({ secret: SECRET, accessTokenTtlSec: 1, refreshTokenTtlSec: 60 });
    const token = shortLived.issue(alice).access_token;
    const { exp } = z.object({ exp: z.number() }).parse(jwt.decode(token));
    const first = await thing(token);
    // Issued at the end of a second, the token may be expired already; otherwise it was verified and kept.
    if (Math.floor(Date.now() / 1000) < exp) expect(first.status).toBe(200);
    while (Math.floor(Date.now() / 1000) < exp) await new Promise((resolve) => setTimeout(resolve, 50));
    const expired = await thing(token);
    await expectErrorBody(expired.clone(), 401, 'UnauthorizedError', 'UNAUTHORIZED');
    expect(((await expired.json()) as { detail: string }).detail).toBe('Token expired');
  });

  it('does not take a token that differs from a verified one by its signature', async () => {
    const token = tokens.issue(alice).access_token;
    expect((await thing(token)).status).toBe(200);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const tampered = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    await expectErrorBody(await thing(tampered), 401, 'UnauthorizedError', 'UNAUTHORIZED');
  });
});
