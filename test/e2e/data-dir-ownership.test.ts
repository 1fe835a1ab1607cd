import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/free-port';
import { http } from '../support/test-system';

jest.setTimeout(300_000);

/**
 * Issue 8, defect 4: `arena replay`, `arena migrate` or a second `arena start` on the DATA_DIR of
 * a running app used to SIGINT that app's embedded PostgreSQL (500 everywhere, forever). Each runs
 * here as its own process, the built CLI, while the app runs.
 */
describe('one owner per DATA_DIR', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let baseUrl: string;
  let app: CliProcess | undefined;

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'arena-owner-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_AUTH_PER_MIN: '1000',
    };
  });

  afterAll(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });

  const startApp = async () => {
    app = runCli(['start'], env);
    await waitForReady(baseUrl, app);
    return app;
  };

  const expectAppServes = async (token: string, after: string) => {
    if (!app || app.child.exitCode !== null) throw new Error(`the app exited after ${after}`);
    expect({ after, status: (await fetch(`${baseUrl}/readyz`)).status }).toEqual({ after, status: 200 });
    expect({ after, status: (await http(baseUrl, 'GET', '/api/v1/users/me', { token })).status }).toEqual({ after, status: 200 });
  };

  it('refuses migrate and a second start while the app runs, replays through the app, and the app stays ready', async () => {
    await startApp();
    const registered = await http(baseUrl, 'POST', '/api/v1/auth/register', {
      body: { username: 'owner_check', email: 'owner@example.com', password: 'SecurePass123' },
    });
    expect(registered.status).toBe(201);
    const token = String(registered.body.access_token);
    const ownerPid = app!.child.pid;

    // A replay next to the running app goes through the app's admin channel (docs/operations.md):
    // it never opens the data dir itself, and the app stays ready.
    for (const name of ['users', 'all', 'telemetry-analytics']) {
      const replay = runCli(['replay', name], env);
      const code = await replay.exited;
      expect({ name, code }).toEqual({ name, code: 0 });
      expect(replay.output()).toContain('replayed through the running app');
      await expectAppServes(token, `replay ${name}`);
    }

    const intruders: { args: string[]; env?: Record<string, string> }[] = [
      { args: ['migrate'] },
      { args: ['start'], env: { PORT: String(await freePort()) } },
    ];
    for (const intruder of intruders) {
      const run = runCli(intruder.args, { ...env, ...intruder.env });
      const code = await run.exited;
      const lines = run.output().trim().split('\n');
      expect({ args: intruder.args, code, lines: lines.length }).toEqual({ args: intruder.args, code: 75, lines: 1 });
      expect(lines[0]).toContain(`arena ${intruder.args.join(' ')}: refused: DATA_DIR ${dataDir} is owned by a running arena process (pid ${ownerPid}, "arena start"`);
      expect(lines[0]).toContain('stop that process first');
      await expectAppServes(token, intruder.args.join(' '));
    }
    // The app's PostgreSQL answered the checks above: it was never signalled. Writes still work.
    const second = await http(baseUrl, 'POST', '/api/v1/auth/register', {
      body: { username: 'owner_check_2', email: 'owner2@example.com', password: 'SecurePass123' },
    });
    expect(second.status).toBe(201);
  });

  it('after a SIGKILL of the owner, the next command takes the data dir over', async () => {
    if (!app || app.child.exitCode !== null) await startApp();
    const lock = JSON.parse(readFileSync(join(dataDir, 'arena.lock'), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(app!.child.pid);
    app!.child.kill('SIGKILL');
    await app!.exited;
    // The stale lock (dead pid) and the orphaned PostgreSQL are both taken over.
    const migrate = runCli(['migrate'], env);
    const code = await migrate.exited;
    if (code !== 0) throw new Error(`migrate exited ${code}:\n${migrate.output()}`);
    await startApp();
    const login = await http(baseUrl, 'POST', '/api/v1/auth/login', { body: { username: 'owner_check', password: 'SecurePass123' } });
    expect(login.status).toBe(200);
  });
});
