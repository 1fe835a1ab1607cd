import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import jwt from 'jsonwebtoken';
import { registerUser } from '../../src/commands/identity/register-user';
import { ownerOfUniqueValue } from '../../src/commands/identity/claim-unique-value';
import { ScryptPasswordHasher } from '../../src/infrastructure/security/password-hasher';
import { http, startTestSystem, type TestSystem } from '../support/test-system';

/**
 * Issue 8: what an attacker or a careless client sends. Every bad input gets the contracts' error
 * body with the right status, nothing answers 5xx, and the server stays ready throughout.
 */
jest.setTimeout(180_000);

const JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';
const BODY_LIMIT_BYTES = 256 * 1024;
let system: TestSystem;
let token: string;

beforeAll(async () => {
  system = await startTestSystem({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) } });
  token = await signIn(`hostile_${suffix()}`);
});
afterAll(async () => {
  await system?.stop();
});

function suffix(): string {
  return Math.random().toString(36).slice(2, 10);
}

async function signIn(username: string): Promise<string> {
  const res = await http(system.url, 'POST', '/api/v1/auth/register', {
    body: { username, email: `${username}@example.com`, password: 'SecurePass123' },
  });
  expect(res.status).toBe(201);
  return String(res.body.access_token);
}

/** The superset error body of both contracts (docs/api-conventions.md). */
function expectErrorBody(body: Record<string, unknown>, status: number): void {
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'details', 'error', 'error_type', 'status_code']);
  expect(body.status_code).toBe(status);
  expect(typeof body.detail).toBe('string');
  expect(body.error).toBe(body.detail);
  expect(typeof body.error_type).toBe('string');
  expect(typeof body.code).toBe('string');
  expect(body.details).toEqual(expect.any(Object));
}

async function expectReady(): Promise<void> {
  expect((await fetch(`${system.url}/readyz`)).status).toBe(200);
}

/** Raw request: body sent as given (malformed JSON, huge payloads), any method. */
async function raw(method: string, path: string, body: string | Buffer | undefined, headers: Record<string, string> = {}) {
  const response = await fetch(`${system.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body,
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

interface BadInput {
  name: string;
  method: string;
  path: string;
  /** A string is sent verbatim; anything else as JSON. */
  body?: unknown;
  status: number;
  /** When set, `details.fields` must name this field. */
  field?: string;
}

const JSON_ROUTES: [string, string][] = [
  ['POST', '/api/v1/auth/register'],
  ['POST', '/api/v1/auth/login'],
  ['POST', '/api/v1/auth/refresh'],
  ['PUT', '/api/v1/users/me'],
  ['POST', '/api/v1/telemetry/sessions'],
  ['POST', `/api/v1/telemetry/sessions/${randomUUID()}/data`],
  ['POST', '/api/v1/analytics/compare/sessions'],
  ['POST', '/api/v1/agents'],
  ['PUT', `/api/v1/agents/${randomUUID()}`],
  ['POST', '/api/v1/matches'],
  ['POST', '/api/v1/training/jobs'],
  ['POST', `/api/v1/training/jobs/${randomUUID()}/arena-submission`],
];
const MALFORMED_JSON = ['{"username":', 'NaN', '{"a":1}}', "{'single':'quotes'}", '[1,2', '{"n": Infinity}'];

const UUID_PATHS = [
  '/api/v1/agents/%s',
  '/api/v1/agents/%s/stats',
  '/api/v1/submissions/%s',
  '/api/v1/submissions/%s/build-status',
  '/api/v1/submissions/%s/build-logs',
  '/api/v1/submissions/agent/%s',
  '/api/v1/matches/%s',
  '/api/v1/matches/%s/replay-url',
  '/api/v1/matches/agent/%s',
  '/api/v1/telemetry/sessions/%s',
  '/api/v1/training/jobs/%s',
  '/api/v1/training/jobs/%s/metrics',
  '/api/v1/training/jobs/%s/artifact',
];
// (A bare `%2e%2e` segment is resolved away by the client's URL parser before it is sent.)
const TRAVERSAL_IDS = ['..%2F..%2Fetc%2Fpasswd', '%2E%2E%5C%2E%2E%5Cwindows', "1'%20OR%20'1'%3D'1", '%00', 'x'.repeat(2000), '00000000-0000-0000-0000-00000000000g'];

const LIST_ROUTES = ['/api/v1/agents', '/api/v1/matches', '/api/v1/leaderboard', '/api/v1/telemetry/sessions', '/api/v1/training/jobs'];
const BAD_PAGING: [string, string][] = [
  ['limit', '-1'],
  ['limit', '0'],
  ['limit', '100000'],
  ['limit', 'NaN'],
  ['limit', 'Infinity'],
  ['offset', '-1'],
  ['offset', '2147483648'],
  ['offset', '1e400'],
  ['offset', 'abc'],
];

const TEXT_FILTERS: [string, string][] = [
  ['/api/v1/agents', 'environment'],
  ['/api/v1/matches', 'environment'],
  ['/api/v1/leaderboard', 'environment'],
  ['/api/v1/telemetry/sessions', 'track_name'],
  ['/api/v1/telemetry/sessions', 'car_model'],
  ['/api/v1/training/jobs', 'algorithm'],
];
/**
 * Unicode edge cases a URL can carry. A lone surrogate cannot be UTF-8 encoded: its bytes (%ED%A0%80)
 * and overlong or truncated sequences decode to U+FFFD, which is storable text: plain 200s.
 */
const RAW_UNICODE_VALUES = ['a%ED%A0%80', '%C0%80', '%E0%A4', '%EF%BB%BFbom', '%E2%80%AEevil', encodeURIComponent('🏎️👨‍👩‍👧'), encodeURIComponent('\u0301'.repeat(50))];
const INJECTIONS = ["' OR 1=1--", '"; DROP TABLE users; --', '${7*7}{{7*7}}', '<script>alert(1)</script>', '../../etc/passwd', "\\'; SELECT pg_sleep(10); --"];

function table(): BadInput[] {
  const cases: BadInput[] = [];
  for (const [method, path] of JSON_ROUTES) {
    for (const body of MALFORMED_JSON) cases.push({ name: `malformed JSON ${JSON.stringify(body)}`, method, path, body, status: 400 });
  }
  for (const template of UUID_PATHS) {
    // An id of another shape (traversal, injection, NUL, too long) names nothing: 404, never a lookup (issue 10 §6).
    for (const id of TRAVERSAL_IDS) cases.push({ name: `bad id ${id.slice(0, 40)}`, method: 'GET', path: template.replace('%s', id), status: 404 });
  }
  for (const route of LIST_ROUTES) {
    for (const [name, value] of BAD_PAGING) cases.push({ name: `${name}=${value}`, method: 'GET', path: `${route}?${name}=${value}`, status: 400, field: name });
  }
  for (const [route, filter] of TEXT_FILTERS) {
    cases.push({ name: `NUL in ${filter}`, method: 'GET', path: `${route}?${filter}=a%00b`, status: 400, field: filter });
  }
  const wrongTypes: [string, string, unknown, string][] = [
    ['POST', '/api/v1/auth/register', { username: 123, email: 'a@b.io', password: 'SecurePass123' }, 'username'],
    ['POST', '/api/v1/auth/register', { username: 'okname', email: ['a@b.io'], password: 'SecurePass123' }, 'email'],
    ['POST', '/api/v1/auth/register', { username: 'okname', email: 'a@b.io', password: { $gt: '' } }, 'password'],
    ['POST', '/api/v1/auth/login', { username: 'okname', password: ['x'] }, 'password'],
    ['POST', '/api/v1/auth/refresh', { refresh_token: 42 }, 'refresh_token'],
    ['PUT', '/api/v1/users/me', { full_name: 7 }, 'full_name'],
    ['POST', '/api/v1/agents', { name: { first: 'x' }, environment_id: 'pong' }, 'name'],
    ['POST', '/api/v1/agents', { name: 'x'.repeat(10_000), environment_id: 'pong' }, 'name'],
    ['POST', '/api/v1/matches', { agent_1_id: 1, agent_2_id: 2, environment_id: 'pong' }, 'agent_1_id'],
    ['POST', '/api/v1/training/jobs', { algorithm: 'DQN', environment: 'Pong', total_timesteps: 'many' }, 'total_timesteps'],
    ['POST', '/api/v1/training/jobs', { algorithm: 'DQN', environment: 'Pong', total_timesteps: -5 }, 'total_timesteps'],
    ['POST', '/api/v1/training/jobs', { algorithm: 'DQN', environment: 'Pong', total_timesteps: 1000, seed: -1 }, 'seed'],
    ['POST', '/api/v1/training/jobs', { algorithm: 'DQN', environment: 'Pong', total_timesteps: 1000, seed: 1e20 }, 'seed'],
  ];
  for (const [method, path, body, field] of wrongTypes) cases.push({ name: `wrong type/range of ${field}`, method, path, body, status: 400, field });
  // Numbers JSON.parse turns into Infinity: a number schema must not take them.
  cases.push({ name: 'total_timesteps 1e400 (Infinity)', method: 'POST', path: '/api/v1/training/jobs', body: '{"algorithm":"DQN","environment":"Pong","total_timesteps":1e400}', status: 400, field: 'total_timesteps' });
  cases.push({ name: 'seed -1e400 (-Infinity)', method: 'POST', path: '/api/v1/training/jobs', body: '{"algorithm":"DQN","environment":"Pong","total_timesteps":1000,"seed":-1e400}', status: 400, field: 'seed' });
  const intOverflow = ['attempt=2147483648', 'attempt=0', 'attempt=-1', 'limit=1001', 'offset=99999999999'];
  for (const query of intOverflow) {
    cases.push({ name: `metrics ${query}`, method: 'GET', path: `/api/v1/training/jobs/${randomUUID()}/metrics?${query}`, status: 400, field: query.split('=')[0] });
  }
  for (const lap of ['lap_a=2147483648', 'lap_a=-1', 'points=1', 'points=1000000']) {
    const base = `session_a=${randomUUID()}&session_b=${randomUUID()}&lap_a=1&lap_b=1&points=100`;
    cases.push({ name: `delta ${lap}`, method: 'GET', path: `/api/v1/analytics/laps/delta?${base.replace(new RegExp(`${lap.split('=')[0]}=\\d+`), lap)}`, status: 400, field: lap.split('=')[0] });
  }
  return cases;
}

const CASES = table();

describe('a table of bad inputs across every route', () => {
  it('has at least 100 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(100);
  });

  it.each(CASES.map((c) => [`${c.method} ${c.path.slice(0, 90)} (${c.name})`, c] as const))('%s', async (_label, c) => {
    const body = c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    const res = await raw(c.method, c.path, body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: c.status });
    expectErrorBody(res.body, c.status);
    if (c.field !== undefined) expect(Object.keys((res.body.details as { fields?: object }).fields ?? {})).toContain(c.field);
  });

  it('injection strings in every text filter are plain text: 200, an empty page, nothing else', async () => {
    for (const [route, filter] of TEXT_FILTERS) {
      for (const value of INJECTIONS) {
        const res = await raw('GET', `${route}?${filter}=${encodeURIComponent(value)}`, undefined);
        expect({ route, filter, value, status: res.status }).toEqual({ route, filter, value, status: 200 });
        expect(res.body.total).toBe(0);
      }
      for (const value of RAW_UNICODE_VALUES) {
        const res = await raw('GET', `${route}?${filter}=${value}`, undefined);
        expect({ route, filter, value, status: res.status }).toEqual({ route, filter, value, status: 200 });
      }
    }
    await expectReady();
  });

  it('the server is still ready after the whole table', async () => {
    await expectReady();
  });
});

describe('NUL and lone surrogates in body fields (defect 5)', () => {
  const nul = 'a\u0000b';
  const lone = 'a\ud800b';
  it.each([
    ['register full_name', 'POST', '/api/v1/auth/register', (v: string) => ({ username: `u_${suffix()}`, email: `${suffix()}@x.io`, password: 'SecurePass123', full_name: v }), 'full_name'],
    ['login username', 'POST', '/api/v1/auth/login', (v: string) => ({ username: v, password: 'SecurePass123' }), 'username'],
    ['PUT /users/me full_name', 'PUT', '/api/v1/users/me', (v: string) => ({ full_name: v }), 'full_name'],
    ['session track_name', 'POST', '/api/v1/telemetry/sessions', (v: string) => ({ track_name: v, car_model: 'GT3' }), 'track_name'],
    ['agent description', 'POST', '/api/v1/agents', (v: string) => ({ name: `agent_${suffix()}`, environment_id: 'pong', description: v }), 'description'],
    ['training description', 'POST', '/api/v1/training/jobs', (v: string) => ({ algorithm: 'DQN', environment: 'Pong', total_timesteps: 1000, description: v }), 'description'],
    ['an object key', 'POST', '/api/v1/agents', (v: string) => ({ name: `agent_${suffix()}`, environment_id: 'pong', [v]: 1 }), '"a\\u0000b"'],
  ])('%s: 400 naming the field', async (_name, method, path, make, field) => {
    for (const value of [nul, lone]) {
      const res = await raw(method, path, JSON.stringify(make(value)));
      expect(res.status).toBe(400);
      expectErrorBody(res.body, 400);
      const fields = Object.keys((res.body.details as { fields: object }).fields);
      if (field.startsWith('"')) expect(fields[0]).toMatch(/^"a\\u(0000|d800)b"$/);
      else expect(fields).toEqual([field]);
    }
  });

  it('batch_id of a telemetry upload', async () => {
    const created = await raw('POST', '/api/v1/telemetry/sessions', JSON.stringify({ session_name: 'Practice', track_name: 'Monza', car_model: 'GT3' }));
    expect(created.status).toBe(201);
    const res = await raw('POST', `/api/v1/telemetry/sessions/${String(created.body.id)}/data`, JSON.stringify({ batch_id: nul, data_points: [] }));
    expect(res.status).toBe(400);
    expect(Object.keys((res.body.details as { fields: object }).fields)).toContain('batch_id');
  });

  it('a registration whose user cannot be recorded releases its username and email claims', async () => {
    const username = `claim_${suffix()}`;
    const email = `${username}@example.com`;
    const ctx = { store: system.services.store, now: () => new Date(), newId: randomUUID, metadata: {} };
    // A NUL behind the edge: the event store refuses the user's event, after both claims were taken.
    await expect(registerUser(ctx, new ScryptPasswordHasher(), { username, email, password: 'SecurePass123', fullName: 'a\u0000b' })).rejects.toThrow();
    expect(await ownerOfUniqueValue(ctx, 'username', username)).toBeNull();
    expect(await ownerOfUniqueValue(ctx, 'email', email)).toBeNull();
    const retry = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username, email, password: 'SecurePass123' } });
    expect(retry.status).toBe(201);
  });
});

describe('errors before express, and methods (defect 7)', () => {
  /** Raw socket: the server may answer before it read everything we send. */
  const rawExchange = (payload: string): Promise<string> =>
    new Promise((resolve) => {
      const { port } = new URL(system.url);
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(received));
      socket.write(payload);
    });
  const parseRaw = (response: string) => {
    const [head, ...rest] = response.split('\r\n\r\n');
    return { statusLine: head.split('\r\n')[0], head, body: JSON.parse(rest.join('\r\n\r\n')) as Record<string, unknown> };
  };

  it('a 100 KB URL answers 431 with the error body', async () => {
    const res = parseRaw(await rawExchange(`GET /api/v1/agents?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(res.head).toMatch(/content-type: application\/json/i);
    expectErrorBody(res.body, 431);
    await expectReady();
  });

  it('a 70 KB header answers 431 with the error body', async () => {
    const res = parseRaw(await rawExchange(`GET /api/v1/agents HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(70_000)}\r\n\r\n`));
    expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expectErrorBody(res.body, 431);
  });

  it('a malformed request line answers 400 with the error body', async () => {
    const res = parseRaw(await rawExchange('GET /api/v1/agents HTTP/9.Q\r\n\r\n'));
    expect(res.statusLine).toMatch(/^HTTP\/1\.1 400 /);
    expectErrorBody(res.body, 400);
  });

  const call = (method: string, path: string): Promise<{ status: number; allow: string | undefined; body: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(`${system.url}${path}`, { method }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      });
      req.on('error', reject);
      req.end();
    });

  it.each([
    ['TRACE', '/api/v1/agents', 'GET, HEAD, OPTIONS, POST'],
    ['TRACE', '/api/v1/auth/login', 'OPTIONS, POST'],
    ['DELETE', '/api/v1/leaderboard', 'GET, HEAD, OPTIONS'],
    ['PATCH', `/api/v1/agents/${randomUUID()}`, 'DELETE, GET, HEAD, OPTIONS, PUT'],
    ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
    ['PUT', '/api/v1/openapi.json', 'GET, HEAD, OPTIONS'],
  ])('%s %s answers 405 with Allow and the error body', async (method, path, allow) => {
    const res = await call(method, path);
    expect(res.status).toBe(405);
    expect(res.allow).toBe(allow);
    expectErrorBody(res.body, 405);
    expect(res.body.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('OPTIONS on a known path answers 204 with Allow; an unknown path stays 404', async () => {
    expect(await call('OPTIONS', '/api/v1/matches')).toMatchObject({ status: 204, allow: 'GET, HEAD, OPTIONS, POST' });
    const unknown = await call('TRACE', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expectErrorBody(unknown.body, 404);
  });

  it('bodies over the limit and deeply nested bodies', async () => {
    const huge = await raw('POST', '/api/v1/agents', JSON.stringify({ name: 'x', environment_id: 'pong', description: 'x'.repeat(BODY_LIMIT_BYTES) }));
    expect(huge.status).toBe(413);
    expectErrorBody(huge.body, 413);
    const depth = 30_000;
    for (const deep of ['['.repeat(depth) + ']'.repeat(depth), '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)]) {
      const res = await raw('POST', '/api/v1/agents', deep);
      expect(res.status).toBe(400);
      expectErrorBody(res.body, 400);
    }
    await expectReady();
  });
});

describe('tokens (defect 8)', () => {
  const sign = (claims: Record<string, unknown>, options: jwt.SignOptions = {}) => jwt.sign(claims, JWT_SECRET, { algorithm: 'HS256', ...options });

  it('a validly signed token without exp is refused', async () => {
    const me = await http(system.url, 'GET', '/api/v1/auth/me', { token });
    const userId = String(me.body.id);
    const noExp = sign({ sub: userId, username: String(me.body.username), typ: 'access' });
    const res = await http(system.url, 'GET', '/api/v1/auth/me', { token: noExp });
    expect(res.status).toBe(401);
    expectErrorBody(res.body, 401);
  });

  it('a token for a user that does not exist creates nothing', async () => {
    const ghost = sign({ sub: randomUUID(), username: 'ghost', typ: 'access', sid: randomUUID() }, { expiresIn: 600 });
    for (const [method, path, body] of [
      ['POST', '/api/v1/telemetry/sessions', { session_name: 'Practice', track_name: 'Monza', car_model: 'GT3' }],
      ['POST', '/api/v1/agents', { name: `ghost_${suffix()}`, environment_id: 'pong' }],
      ['POST', '/api/v1/training/jobs', { algorithm: 'DQN', environment: 'Pong', total_timesteps: 1000 }],
    ] as const) {
      const res = await http(system.url, method, path, { token: ghost, body });
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
      expectErrorBody(res.body, 401);
    }
  });

  it('refresh tokens rotate; reusing a rotated one revokes the whole session, as events', async () => {
    const username = `rotate_${suffix()}`;
    const reg = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username, email: `${username}@x.io`, password: 'SecurePass123' } });
    const first = String(reg.body.refresh_token);
    const refreshed = await http(system.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: first } });
    expect(refreshed.status).toBe(200);
    const second = String(refreshed.body.refresh_token);
    expect(second).not.toBe(first);
    expect((await http(system.url, 'GET', '/api/v1/auth/me', { token: String(refreshed.body.access_token) })).status).toBe(200);

    const reuse = await http(system.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: first } });
    expect(reuse.status).toBe(401);
    expectErrorBody(reuse.body, 401);
    // The family is gone: the newest refresh token and every access token of the session too.
    expect((await http(system.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: second } })).status).toBe(401);
    expect((await http(system.url, 'GET', '/api/v1/auth/me', { token: String(refreshed.body.access_token) })).status).toBe(401);
    expect((await http(system.url, 'GET', '/api/v1/auth/me', { token: String(reg.body.access_token) })).status).toBe(401);

    const { sid } = jwt.decode(first) as { sid: string };
    const events = await system.services.store.readStream(`signin-${sid}`);
    expect(events.map((e) => e.type)).toEqual(['SessionStarted', 'SessionRefreshed', 'SessionRevoked']);
    expect(events[2]!.data).toMatchObject({ reason: 'refresh_token_reuse' });
    // Signing in again works: a new session.
    expect((await http(system.url, 'POST', '/api/v1/auth/login', { body: { username, password: 'SecurePass123' } })).status).toBe(200);
  });

  it('POST /auth/logout revokes the session: its access and refresh tokens stop working', async () => {
    const username = `logout_${suffix()}`;
    const reg = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username, email: `${username}@x.io`, password: 'SecurePass123' } });
    const access = String(reg.body.access_token);
    const other = await http(system.url, 'POST', '/api/v1/auth/login', { body: { username, password: 'SecurePass123' } });
    const out = await http(system.url, 'POST', '/api/v1/auth/logout', { token: access });
    expect(out.status).toBe(204);
    expect((await http(system.url, 'GET', '/api/v1/auth/me', { token: access })).status).toBe(401);
    expect((await http(system.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: String(reg.body.refresh_token) } })).status).toBe(401);
    // Another session of the same user is untouched.
    expect((await http(system.url, 'GET', '/api/v1/auth/me', { token: String(other.body.access_token) })).status).toBe(200);
    expect((await http(system.url, 'POST', '/api/v1/auth/logout')).status).toBe(401);
  });
});
