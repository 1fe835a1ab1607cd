import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/free-port';
import { http } from '../support/test-system';

jest.setTimeout(240_000);

/** `arena start` exactly as `npm start` runs it: embedded PostgreSQL, chDB, in-process bus. */
describe('arena start on embedded defaults', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let baseUrl: string;
  let pgPort: number;
  let running: CliProcess | undefined;

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'arena-cli-'));
    const port = await freePort();
    pgPort = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_AUTH_PER_MIN: '1000',
    };
  });
  afterEach(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    running = undefined;
  });

  const start = async () => {
    running = runCli(['start'], env);
    await waitForReady(baseUrl, running);
    return running;
  };

  it('serves register/login/me, and the user is still there after a clean restart', async () => {
    const first = await start();
    const reg = await http(baseUrl, 'POST', '/api/v1/auth/register', {
      body: { username: 'racing_pro', email: 'user@example.com', password: 'SecurePass123', full_name: 'John Doe' },
    });
    expect(reg.status).toBe(201);
    const userId = (reg.body.user as { id: string }).id;
    expect((await http(baseUrl, 'GET', '/api/v1/auth/me', { token: String(reg.body.access_token) })).body.id).toBe(userId);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    await start();
    const login = await http(baseUrl, 'POST', '/api/v1/auth/login', { body: { email: 'user@example.com', password: 'SecurePass123' } });
    expect(login.status).toBe(200);
    const me = await http(baseUrl, 'GET', '/api/v1/users/me', { token: String(login.body.token) });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: userId, username: 'racing_pro', email: 'user@example.com' });
    // The token issued before the restart is still valid: the generated secret persisted.
    expect((await http(baseUrl, 'GET', '/api/v1/auth/me', { token: String(reg.body.access_token) })).status).toBe(200);
  });

  it('loses nothing when killed with SIGKILL while writing', async () => {
    const victim = await start();
    const attempts = Array.from({ length: 25 }, (_, i) =>
      http(baseUrl, 'POST', '/api/v1/auth/register', {
        body: { username: `crash_${i}`, email: `crash_${i}@example.com`, password: 'SecurePass123' },
      }).catch(() => ({ status: 0, body: {} as Record<string, unknown> })),
    );
    // Kill as soon as the first registration answered: the rest are mid-flight somewhere
    // between request, event store, relay and projection.
    await Promise.race(attempts);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const answered = (await Promise.all(attempts)).filter((r) => r.status === 201);
    expect(answered.length).toBeGreaterThan(0);

    await start();
    for (const res of answered) {
      const username = (res.body.user as { username: string }).username;
      const login = await http(baseUrl, 'POST', '/api/v1/auth/login', { body: { username, password: 'SecurePass123' } });
      expect(login.status).toBe(200);
      expect((await http(baseUrl, 'GET', '/api/v1/auth/me', { token: String(login.body.token) })).status).toBe(200);
    }
    // Every registration that reached the event store reaches the read model, answered or not.
    const db = new Client({ connectionString: `postgres://arena:arena@127.0.0.1:${pgPort}/arena` });
    await db.connect();
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const stored = await db.query(`SELECT count(*)::int AS n FROM eventstore.events WHERE type = 'UserRegistered' AND data->>'username' LIKE 'crash_%'`);
        const projected = await db.query(`SELECT count(*)::int AS n FROM users WHERE username LIKE 'crash_%'`);
        if (stored.rows[0].n === projected.rows[0].n) {
          expect(projected.rows[0].n).toBeGreaterThanOrEqual(answered.length);
          break;
        }
        if (Date.now() > deadline) throw new Error(`stored ${stored.rows[0].n} registrations, projected ${projected.rows[0].n}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await db.end();
    }
  });

  it('shuts down cleanly when stopped while still starting', async () => {
    const early = runCli(['start'], env);
    // Past module loading, before start-up can have finished (embedded PostgreSQL, chDB, roles).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    early.child.kill('SIGTERM');
    const code = await early.exited;
    if (code !== 0) throw new Error(`exit ${code}: ${early.output().slice(-3000)}`);
    // Nothing was left behind: the next start gets the data dir and the ports.
    await start();
  });

  it('refuses to start with a bad configuration value and names the variable', async () => {
    const bad = runCli(['start'], { ...env, PORT: 'not-a-port', KAFKA_BROKERS: 'nonsense' });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('PORT');
    expect(bad.output()).toContain('KAFKA_BROKERS');
  });
});
