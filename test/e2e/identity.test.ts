import { http, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(async () => {
  await system?.stop();
});

const register = (body: Record<string, unknown>) => http(system.url, 'POST', '/api/v1/auth/register', { body });
const unique = () => Math.random().toString(36).slice(2, 10);

describe('identity over HTTP (LapXcel + RL-Arena auth contracts)', () => {
  it('registers with the superset body of both contracts, and /auth/me and /users/me read the projection', async () => {
    const name = `racer_${unique()}`;
    const res = await register({ username: name, email: `${name}@Example.com`, password: 'SecurePass123', full_name: 'John Doe' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    for (const field of ['access_token', 'refresh_token', 'token']) expect(typeof res.body[field]).toBe('string');
    // RL-Arena's `token` lasts 24 h (its document; no refresh there), LapXcel's access_token 1 h (expires_in).
    const lifetimeSec = (token: unknown) => {
      const claims = JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat: number; exp: number; typ: string };
      expect(claims.typ).toBe('access');
      return claims.exp - claims.iat;
    };
    expect(lifetimeSec(res.body.token)).toBe(24 * 3600);
    expect(lifetimeSec(res.body.access_token)).toBe(3600);
    const user = res.body.user as Record<string, unknown>;
    expect(user).toMatchObject({ username: name, email: `${name}@example.com`, full_name: 'John Doe' });
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);

    const me = await http(system.url, 'GET', '/api/v1/auth/me', { token: String(res.body.access_token) });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, username: name, email: `${name}@example.com`, is_active: true, is_admin: false, last_login: null });
    expect(new Date(String(me.body.created_at)).toString()).not.toBe('Invalid Date');

    const profile = await http(system.url, 'GET', '/api/v1/users/me', { token: String(res.body.token) });
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: user.id, username: name, stats: { total_agents: 0, total_matches: 0, total_wins: 0 } });

    // The read model row was written by the projection from the stored event, not by the handler.
    const events = await system.services.store.readStream(`user-${String(user.id)}`);
    expect(events.map((e) => e.type)).toEqual(['UserRegistered']);
    expect(JSON.stringify(events[0].data)).not.toContain('SecurePass123');
    expect(String(events[0].data.passwordHash)).toMatch(/^scrypt\$/);
  });

  it('logs in by email and by username, records last_login, refuses bad credentials alike', async () => {
    const name = `pilot_${unique()}`;
    await register({ username: name, email: `${name}@x.io`, password: 'SecurePass123' });
    const byEmail = await http(system.url, 'POST', '/api/v1/auth/login', { body: { email: `${name}@X.io`, password: 'SecurePass123' } });
    expect(byEmail.status).toBe(200);
    expect((byEmail.body.user as Record<string, unknown>).username).toBe(name);
    const byUsername = await http(system.url, 'POST', '/api/v1/auth/login', { body: { username: name, password: 'SecurePass123' } });
    expect(byUsername.status).toBe(200);
    const lifetimeSec = (token: unknown) => {
      const claims = JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat: number; exp: number };
      return claims.exp - claims.iat;
    };
    expect([lifetimeSec(byUsername.body.token), lifetimeSec(byUsername.body.access_token)]).toEqual([24 * 3600, 3600]);
    const me = await http(system.url, 'GET', '/api/v1/auth/me', { token: String(byUsername.body.access_token) });
    expect(me.body.last_login).not.toBeNull();

    const wrong = await http(system.url, 'POST', '/api/v1/auth/login', { body: { username: name, password: 'WrongPass123' } });
    const unknown = await http(system.url, 'POST', '/api/v1/auth/login', { body: { username: `nobody_${unique()}`, password: 'WrongPass123' } });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ detail: 'Invalid credentials', error: 'Invalid credentials', status_code: 401, code: 'UNAUTHORIZED' });
    }
  });

  it('answers 409 for a taken username or email (case-insensitive) and 400 with field details for bad input', async () => {
    const name = `dup_${unique()}`;
    expect((await register({ username: name, email: `${name}@x.io`, password: 'SecurePass123' })).status).toBe(201);
    const sameName = await register({ username: name.toUpperCase(), email: `other_${name}@x.io`, password: 'SecurePass123' });
    expect(sameName.status).toBe(409);
    expect(sameName.body).toMatchObject({ status_code: 409, error_type: 'ConflictError', code: 'CONFLICT' });
    const sameEmail = await register({ username: `other_${name}`, email: `${name.toUpperCase()}@X.IO`, password: 'SecurePass123' });
    expect(sameEmail.status).toBe(409);
    // The failed attempt released its username claim: the name is still free.
    expect((await register({ username: `other_${name}`, email: `third_${name}@x.io`, password: 'SecurePass123' })).status).toBe(201);

    const weak = await register({ username: `weak_${unique()}`, email: 'weak@x.io', password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body).toMatchObject({ status_code: 400, code: 'VALIDATION_ERROR' });
    expect(JSON.stringify(weak.body.details)).toContain('password');
    const badEmail = await register({ username: `mail_${unique()}`, email: 'not-an-email', password: 'SecurePass123' });
    expect(badEmail.status).toBe(400);
    expect(JSON.stringify(badEmail.body.details)).toContain('email');
  });

  it('lets exactly one of many concurrent registrations of one username win', async () => {
    const name = `race_${unique()}`;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => register({ username: name, email: `${name}_${i}@x.io`, password: 'SecurePass123' })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
  });

  it('updates the profile; the old email becomes free and the new one is taken', async () => {
    const name = `upd_${unique()}`;
    const res = await register({ username: name, email: `${name}@old.io`, password: 'SecurePass123' });
    const token = String(res.body.token);
    const updated = await http(system.url, 'PUT', '/api/v1/users/me', { token, body: { email: `${name}@new.io` } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ username: name, email: `${name}@new.io` });
    expect((await http(system.url, 'GET', '/api/v1/auth/me', { token })).body.email).toBe(`${name}@new.io`);
    expect((await register({ username: `x${name}`, email: `${name}@new.io`, password: 'SecurePass123' })).status).toBe(409);
    expect((await register({ username: `y${name}`, email: `${name}@old.io`, password: 'SecurePass123' })).status).toBe(201);
    const login = await http(system.url, 'POST', '/api/v1/auth/login', { body: { email: `${name}@new.io`, password: 'SecurePass123' } });
    expect(login.status).toBe(200);
    const empty = await http(system.url, 'PUT', '/api/v1/users/me', { token, body: {} });
    expect(empty.status).toBe(400);
  });

  it("answers a profile update with what the read model then holds (the command's outcome, not a read)", async () => {
    const name = `ans_${unique()}`;
    const res = await register({ username: name, email: `${name}@x.io`, password: 'SecurePass123' });
    const token = String(res.body.token);
    for (const body of [{ full_name: `O'Brien \\ "${name}"` }, { email: `${name}@y.io` }, { full_name: null }, { email: `${name}@z.io`, full_name: 'Both' }]) {
      const updated = await http(system.url, 'PUT', '/api/v1/users/me', { token, body });
      expect(updated.status).toBe(200);
      const read = (await http(system.url, 'GET', '/api/v1/users/me', { token })).body;
      expect(updated.body).toEqual({ id: read.id, username: read.username, email: read.email, full_name: read.full_name, updated_at: read.updated_at });
    }
  });

  it('refreshes tokens with a refresh token only, and guards /me', async () => {
    const name = `ref_${unique()}`;
    const res = await register({ username: name, email: `${name}@x.io`, password: 'SecurePass123' });
    const refreshed = await http(system.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: res.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect((await http(system.url, 'GET', '/api/v1/auth/me', { token: String(refreshed.body.access_token) })).status).toBe(200);
    const withAccess = await http(system.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: res.body.access_token } });
    expect(withAccess.status).toBe(401);
    expect((await http(system.url, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await http(system.url, 'GET', '/api/v1/users/me', { token: String(res.body.refresh_token) })).status).toBe(401);
  });
});
