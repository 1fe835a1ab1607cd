import { chmodSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync, truncateSync, writeSync, closeSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { generateSession } from '../fixtures/telemetry/trace-generator';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/free-port';
import { createSession, eventually, registerDriver, uploadInBatches, type Driver } from '../support/racing';
import { http } from '../support/test-system';
import { createAgent, exampleAgentZip, upload } from './arena-support';

jest.setTimeout(600_000);

/**
 * Issue 12 §7: `arena backup` and `arena restore` on the embedded defaults, as separate processes of
 * the built CLI. State is made through the API (users, a telemetry session with points and laps, an
 * agent with an uploaded and built submission); a restore into a fresh DATA_DIR answers the same
 * (API and ClickHouse), and so does the restored state after `arena replay all` and
 * `arena replay telemetry-analytics`. Damaged backups and a running app are refused, and leave the
 * target as it was.
 */
describe('arena backup / arena restore (embedded PostgreSQL + chDB)', () => {
  const root = mkdtempSync(join(tmpdir(), 'arena-backup-'));
  let env: Record<string, string>;
  let baseUrl: string;
  let analyticsUrl: string;
  let app: CliProcess | undefined;
  let alice: Driver;
  let sessionId: string;
  let agentId: string;
  let submissionId: string;
  const TRACK = 'Backup Ring';
  const CAR = 'GT3';

  beforeAll(async () => {
    ensureBuilt();
    // DATA_DIRs live below `root`: as root, embedded PostgreSQL runs as `postgres`, which must reach them.
    chmodSync(root, 0o755);
    const port = await freePort();
    const analyticsPort = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    analyticsUrl = `http://127.0.0.1:${analyticsPort}`;
    env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      ANALYTICS_HTTP_PORT: `127.0.0.1:${analyticsPort}`,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
    };
  });

  afterAll(async () => {
    await stopApp();
    rmSync(root, { recursive: true, force: true });
  });

  const dataDir = (name: string) => join(root, name);
  const cli = async (args: string[], dir: string) => {
    const run = runCli(args, { ...env, DATA_DIR: dir });
    const code = await run.exited;
    return { code, output: run.output() };
  };
  const startApp = async (dir: string) => {
    app = runCli(['start'], { ...env, DATA_DIR: dir });
    await waitForReady(baseUrl, app, 240_000);
  };
  async function stopApp(): Promise<void> {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
    }
    app = undefined;
  }

  /** What clients and analysts see: API answers (PostgreSQL read models, ClickHouse-backed analytics) and ClickHouse rows. */
  const answers = async (dir: string) => {
    const get = async (path: string, token?: string) => {
      const res = await http(baseUrl, 'GET', `/api/v1${path}`, { token });
      return { path, status: res.status, body: res.body };
    };
    const password = readFileSync(join(dir, 'analyst-password'), 'utf8').trim();
    const analyst = createClient({ url: analyticsUrl, username: 'analyst', password, database: 'arena', log: { level: 127 as never } });
    const sql = async (query: string) => (await analyst.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>();
    try {
      return {
        api: [
          await get('/auth/me', alice.token),
          await get('/telemetry/sessions', alice.token),
          await get(`/telemetry/sessions/${sessionId}`, alice.token),
          await get(`/analytics/consistency?session_id=${sessionId}`, alice.token),
          await get(`/analytics/leaderboard?track_name=${encodeURIComponent(TRACK)}&car_model=${CAR}`),
          await get(`/agents/${agentId}`),
          await get(`/submissions/${submissionId}`),
          await get(`/submissions/${submissionId}/build-status`),
        ],
        clickhouse: {
          points: await sql('SELECT count() AS n, sum(cityHash64(*)) AS digest FROM telemetry_points FINAL'),
          laps: await sql('SELECT * FROM laps FINAL ORDER BY user_id, session_id, lap_number'),
        },
      };
    } finally {
      await analyst.close();
    }
  };

  it('restores into a fresh DATA_DIR with the same answers, before and after a replay; refuses damaged backups and a running app', async () => {
    const original = dataDir('original');
    const backup = join(root, 'backup');
    await startApp(original);

    // State through the API: users, a session with points and laps, an agent with a built submission.
    const generated = generateSession({ hz: 20, seed: 7, laps: 3, driverSkill: 0.9, start: 'rolling' });
    alice = await registerDriver(baseUrl, 'alice');
    const bob = await registerDriver(baseUrl, 'bob');
    sessionId = await createSession(baseUrl, alice, { session_name: 'Backed up', track_name: TRACK, car_model: CAR, track_length_m: generated.trackLengthM });
    expect(await uploadInBatches(baseUrl, alice, sessionId, generated.points, 1000)).toBe(generated.points.length);
    agentId = await createAgent(baseUrl, bob.token, 'Keeper');
    const uploaded = await upload(baseUrl, bob.token, { agentId, zip: exampleAgentZip('tracking_agent') });
    expect(uploaded.status).toBe(201);
    submissionId = String(uploaded.body.id);
    await eventually(
      'the build to finish',
      async () => {
        const res = await http(baseUrl, 'GET', `/api/v1/submissions/${submissionId}`);
        return res.body.status === 'success' || res.body.status === 'failed' ? true : undefined;
      },
      180_000,
    );
    await eventually('ClickHouse to hold every point and lap', async () => {
      const now = await answers(original);
      const points = Number(now.clickhouse.points[0]?.n);
      return points === generated.points.length && now.clickhouse.laps.length === generated.laps.length ? true : undefined;
    }, 60_000);
    const before = await answers(original);
    expect(before.api.every((a) => a.status === 200)).toBe(true);

    // Backup next to the running app is refused, and the app goes on.
    const whileRunning = await cli(['backup', backup], original);
    expect(whileRunning.code).toBe(75);
    expect(whileRunning.output).toContain('arena backup: refused: DATA_DIR');
    expect(whileRunning.output).toContain('stop the app');
    expect(existsSync(backup)).toBe(false);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);

    await stopApp();
    const made = await cli(['backup', backup], original);
    expect({ code: made.code, output: made.output }).toMatchObject({ code: 0 });
    const manifest = JSON.parse(readFileSync(join(backup, 'manifest.json'), 'utf8')) as {
      components: string[];
      eventStore: { events: number; lastGlobalPosition: string };
      tables: Record<string, number>;
      entries: { path: string; type: string; size?: number }[];
    };
    expect(manifest.components).toEqual(expect.arrayContaining(['postgres', 'chdb', 'artifacts', 'jwt-secret', 'analyst-password']));
    expect(manifest.eventStore.events).toBeGreaterThan(0);
    expect(manifest.tables['eventstore.events']).toBe(manifest.eventStore.events);
    expect(manifest.tables['public.users']).toBe(2);
    // The uploaded agent code is in the backup.
    expect(manifest.entries.some((e) => e.path.startsWith('artifacts/') && e.type === 'file')).toBe(true);
    // A second backup into the same directory is refused.
    expect((await cli(['backup', backup], original)).code).toBe(73);

    // Hostile backups: one changed byte, one truncated file, no manifest. Each is refused before
    // DATA_DIR is touched (it is not even created).
    const damaged = (name: string, harm: (copy: string) => string) => {
      const copy = join(root, name);
      cpSync(backup, copy, { recursive: true, verbatimSymlinks: true });
      return { copy, harmed: harm(copy) };
    };
    const largestFile = (prefix: string) =>
      manifest.entries
        .filter((e) => e.type === 'file' && e.path.startsWith(prefix))
        .sort((a, b) => (b.size ?? 0) - (a.size ?? 0))[0]!.path;
    const cases = [
      damaged('tampered', (copy) => {
        const path = largestFile('postgres/base/');
        const fd = openSync(join(copy, 'data', path), 'r+');
        writeSync(fd, Buffer.from([0x5a]), 0, 1, 8192 + 17);
        closeSync(fd);
        return path;
      }),
      damaged('truncated', (copy) => {
        const path = largestFile('chdb/');
        truncateSync(join(copy, 'data', path), Math.floor(statSync(join(copy, 'data', path)).size / 2));
        return path;
      }),
      damaged('incomplete', (copy) => {
        renameSync(join(copy, 'manifest.json'), join(copy, 'manifest.json.partial'));
        return 'manifest.json';
      }),
    ];
    for (const { copy, harmed } of cases) {
      const target = dataDir(`target-of-${harmed.replace(/\W/g, '_')}`);
      const refused = await cli(['restore', copy], target);
      expect({ harmed, code: refused.code }).toEqual({ harmed, code: 65 });
      expect(refused.output).toContain(harmed);
      expect(refused.output).toContain('DATA_DIR was not touched');
      expect(existsSync(target)).toBe(false);
    }

    // A good restore into a fresh DATA_DIR, then the same answers from an app started on it.
    const restored = dataDir('restored');
    const restore = await cli(['restore', backup], restored);
    expect({ code: restore.code, output: restore.output }).toMatchObject({ code: 0 });
    expect(restore.output).toContain(`${manifest.eventStore.events} events, last global position ${manifest.eventStore.lastGlobalPosition}`);
    await startApp(restored);
    expect(await answers(restored)).toEqual(before);

    // Restore is refused while the app owns the DATA_DIR, and the app goes on serving.
    const intruder = await cli(['restore', backup, '--force'], restored);
    expect(intruder.code).toBe(75);
    expect(intruder.output).toContain('arena restore: refused: DATA_DIR');
    expect((await http(baseUrl, 'GET', '/api/v1/auth/me', { token: alice.token })).status).toBe(200);
    await stopApp();

    // Into a DATA_DIR that holds state: refused without --force; with it, the old state is moved aside.
    const notEmpty = await cli(['restore', backup], restored);
    expect(notEmpty.code).toBe(73);
    expect(notEmpty.output).toContain('--force');
    const forced = await cli(['restore', backup, '--force'], restored);
    expect(forced.code).toBe(0);
    expect(readdirSync(restored).filter((name) => name.startsWith('.pre-restore-'))).toHaveLength(1);

    // A restore killed (SIGKILL) while it copies leaves only its staging directory; the next one
    // removes it and restores in full (checked by the answers below).
    const staging = () => readdirSync(restored).filter((name) => name.startsWith('.restore-'));
    const killed = runCli(['restore', backup, '--force'], { ...env, DATA_DIR: restored });
    await eventually('the restore to start copying', async () => (staging().length > 0 ? true : undefined), 120_000);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(staging()).toHaveLength(1);
    const again = await cli(['restore', backup, '--force'], restored);
    expect({ code: again.code, output: again.output }).toMatchObject({ code: 0 });
    expect(staging()).toEqual([]);

    // A replay of every model from the restored events gives the same answers.
    for (const projection of ['all', 'telemetry-analytics']) {
      const replay = await cli(['replay', projection], restored);
      expect({ projection, code: replay.code }).toEqual({ projection, code: 0 });
    }
    await startApp(restored);
    expect(await answers(restored)).toEqual(before);
    await stopApp();
  });
});
