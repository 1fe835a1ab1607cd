import { WebSocket } from 'ws';
import { WS_CLOSE } from '../../src/api/shared/websocket/websocket-gateway';
import { http, startTestSystem, type TestSystem } from '../support/test-system';
import { connectWebSocket, type WebSocketTestClient } from '../support/ws-client';

/**
 * Each contract's rate limits on its own routes, with the documented defaults (the test system
 * otherwise raises every limit): LapXcel's hourly 1000 per user / 100 per anonymous client and 10
 * WebSocket connections per user; RL-Arena's per-minute 5 / 5 / 10 / 60; auth routes under both.
 */

let system: TestSystem;
let alice: string;
let bob: string;

beforeAll(async () => {
  system = await startTestSystem({
    env: {
      RATE_LIMIT_AUTH_PER_MIN: '5',
      RATE_LIMIT_SUBMISSIONS_PER_MIN: '5',
      RATE_LIMIT_MATCHES_PER_MIN: '10',
      RATE_LIMIT_DEFAULT_PER_MIN: '60',
      RATE_LIMIT_LAPXCEL_USER_PER_HOUR: '1000',
      RATE_LIMIT_LAPXCEL_ANONYMOUS_PER_HOUR: '100',
    },
  });
  const register = async (name: string) => {
    const res = await http(system.url, 'POST', '/api/v1/auth/register', {
      body: { username: `${name}_${Date.now().toString(36)}`, email: `${name}${Date.now()}@example.com`, password: 'SecurePass123' },
    });
    expect(res.status).toBe(201);
    return String(res.body.access_token);
  };
  alice = await register('alice');
  bob = await register('bob');
}, 120_000);
afterAll(async () => {
  await system?.stop();
});

const call = (method: string, path: string, token?: string, body?: unknown) => http(system.url, method, `/api/v1${path}`, { token, body });
const limits = (res: { headers: Headers }) => ({
  limit: res.headers.get('x-ratelimit-limit'),
  remaining: Number(res.headers.get('x-ratelimit-remaining')),
  resetInSec: Number(res.headers.get('x-ratelimit-reset')) - Math.floor(Date.now() / 1000),
});
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('rate limits per contract', () => {
  it('LapXcel routes (telemetry, analytics, training, /auth/me) share the hourly budget of 1000 per signed-in user', async () => {
    const seen = [
      await call('GET', '/telemetry/sessions', alice),
      await call('GET', '/analytics/leaderboard?track_name=Monza&car_model=GT3', alice),
      await call('GET', '/training/jobs', alice),
      await call('GET', '/auth/me', alice),
    ];
    expect(seen.map((res) => [res.status, res.body.detail])).toEqual([[200, undefined], [200, undefined], [200, undefined], [200, undefined]]);
    expect(seen.map((res) => limits(res).limit)).toEqual(['1000', '1000', '1000', '1000']);
    // One budget across the LapXcel routes: each request took one more from it.
    const remaining = seen.map((res) => limits(res).remaining);
    expect(remaining.slice(1).map((r, i) => remaining[i]! - r)).toEqual([1, 1, 1]);
    expect(limits(seen[0]!).resetInSec).toBeGreaterThan(3500);
    expect(limits(seen[0]!).resetInSec).toBeLessThanOrEqual(3601);
  });

  it('anonymous LapXcel requests get 100 an hour per client, then 429 naming the hourly budget', async () => {
    const board = '/analytics/leaderboard?track_name=Monza&car_model=GT3';
    const first = await call('GET', board);
    expect(first.status).toBe(200);
    expect(limits(first).limit).toBe('100');
    let last = first;
    for (let i = limits(first).remaining; i > 0; i -= 1) last = await call('GET', board);
    expect(last.status).toBe(200);
    expect(limits(last).remaining).toBe(0);
    const refused = await call('GET', board);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', status_code: 429, details: { category: 'lapxcel', limit: 100, window_sec: 3600 } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3500);
    // A signed-in user from the same address is counted on their own.
    expect((await call('GET', board, bob)).status).toBe(200);
    // RL-Arena routes do not draw from LapXcel's budget.
    const arena = await call('GET', '/agents');
    expect(arena.status).toBe(200);
    expect(limits(arena).limit).toBe('60');
  });

  it('RL-Arena routes keep their per-minute limits', async () => {
    const agents = await call('GET', '/agents', alice);
    expect(limits(agents).limit).toBe('60');
    expect(limits(agents).resetInSec).toBeLessThanOrEqual(61);
    const match = await call('POST', '/matches', alice, {});
    expect(match.status).toBe(400);
    expect(limits(match).limit).toBe('10');
    const submission = await call('POST', '/submissions', alice);
    expect(submission.status).toBe(400);
    expect(limits(submission).limit).toBe('5');
  });

  it('auth routes get the stricter of both: 5 a minute (RL-Arena) inside 100 an hour (LapXcel)', async () => {
    const login = await call('POST', '/auth/login', undefined, { username: 'nobody_here', password: 'WrongPass123' });
    expect(login.status).toBe(401);
    // Two registrations and this login so far (fewer if a minute passed): the per-minute budget (5) is
    // the one closest to running out, not the hourly one (100).
    expect(limits(login).limit).toBe('5');
    expect(limits(login).remaining).toBeLessThanOrEqual(4);
    expect(limits(login).resetInSec).toBeLessThanOrEqual(61);
  });

  it('a training route that creates an RL-Arena submission also draws from the submissions budget', async () => {
    const res = await call('POST', `/training/jobs/${UNKNOWN}/arena-submission`, bob, { agent_id: UNKNOWN });
    expect(res.status).toBe(404);
    expect(limits(res)).toMatchObject({ limit: '5', remaining: 4 });
  });

  it('allows 10 LapXcel WebSocket connections per user across /ws/telemetry and /ws/training; the 11th is refused with 4429 and a reason', async () => {
    const ws = (path: string, token: string) => connectWebSocket(`${system.url.replace('http', 'ws')}${path}?token=${token}`);
    const open: WebSocketTestClient[] = [];
    for (let i = 0; i < 6; i += 1) open.push(await ws('/ws/telemetry', bob));
    for (let i = 0; i < 4; i += 1) open.push(await ws('/ws/training', bob));
    const eleventh = await ws('/ws/training', bob);
    expect(await eleventh.next()).toEqual({
      type: 'error',
      code: 'RATE_LIMIT_EXCEEDED',
      error: 'At most 10 concurrent WebSocket connections per user',
      details: {},
    });
    expect(await eleventh.closedWith).toEqual({ code: WS_CLOSE.tooManyConnections, reason: 'At most 10 concurrent WebSocket connections per user' });
    // RL-Arena's socket is not LapXcel's to count; another user has their own 10.
    const arena = await ws('/api/v1/ws', bob);
    const other = await ws('/ws/telemetry', alice);
    await new Promise((r) => setTimeout(r, 200));
    expect([arena.ws.readyState, other.ws.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);
    expect(open.every((client) => client.ws.readyState === WebSocket.OPEN)).toBe(true);
    // Closing one makes room for one.
    open[0]!.ws.close();
    await open[0]!.closed;
    const again = await ws('/ws/telemetry', bob);
    await new Promise((r) => setTimeout(r, 200));
    expect(again.ws.readyState).toBe(WebSocket.OPEN);
    for (const client of [...open.slice(1), arena, other, again]) client.ws.close();
  });
});
