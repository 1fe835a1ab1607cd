import { mkdtempSync, readFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { Client } from 'pg';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/free-port';
import { createSession, registerDriver, type Driver } from '../support/racing';
import { http } from '../support/test-system';

jest.setTimeout(600_000);

/** Prometheus text format -> { 'name{labels}': value } (sample lines only). */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

const sample = (samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`) && key !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) return value;
  }
  return undefined;
};

const nonLoopbackAddress = (): string | undefined =>
  Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

/**
 * The operators' and analysts' doors on a running `arena start` (embedded defaults): /metrics,
 * `arena status` and `arena replay` as separate processes, and ClickHouse's HTTP interface.
 */
describe('operating a running arena', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let baseUrl: string;
  let pgPort: number;
  let analyticsUrl: string;
  let app: CliProcess;
  const metricsToken = 'metrics-token-for-the-test-0123';

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'arena-ops-'));
    const port = await freePort();
    pgPort = await freePort();
    const analyticsPort = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    analyticsUrl = `http://127.0.0.1:${analyticsPort}`;
    env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '0.0.0.0',
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      ANALYTICS_HTTP_PORT: `127.0.0.1:${analyticsPort}`,
      METRICS_TOKEN: metricsToken,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
    };
    app = runCli(['start'], env);
    await waitForReady(baseUrl, app, 240_000);
  });

  afterAll(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });

  const register = async (name: string) => {
    const response = await http(baseUrl, 'POST', '/api/v1/auth/register', {
      body: { username: name, email: `${name}@example.com`, password: 'SecurePass123', full_name: name },
    });
    expect(response.status).toBe(201);
    return String(response.body.access_token);
  };

  const scrape = async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return parseMetrics(await response.text());
  };

  describe('GET /metrics', () => {
    it('moves with real traffic: HTTP by route pattern, appends, relay, projections, process', async () => {
      const before = await scrape();
      const token = await register('metrics_user');
      expect((await http(baseUrl, 'GET', '/api/v1/auth/me', { token })).status).toBe(200);
      expect((await http(baseUrl, 'GET', '/api/v1/agents/00000000-0000-0000-0000-000000000000', { token })).status).toBe(404);
      // The projection and relay gauges are refreshed at most every 5 s.
      await new Promise((resolve) => setTimeout(resolve, 5500));
      const after = await scrape();

      const registered = (s: Map<string, number>) =>
        sample(s, 'arena_http_request_duration_seconds_count', { route: '/api/v1/auth/register', status: '201' }) ?? 0;
      expect(registered(after)).toBe(registered(before) + 1);
      // Route pattern, not the raw URL: the agent id does not appear in any label.
      expect([...after.keys()].some((k) => k.includes('00000000-0000'))).toBe(false);
      expect(sample(after, 'arena_http_request_duration_seconds_count', { method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1);
      const appends = (s: Map<string, number>) => sample(s, 'arena_eventstore_append_duration_seconds_count', { category: 'user', outcome: 'ok' }) ?? 0;
      expect(appends(after)).toBeGreaterThan(appends(before));
      expect(sample(after, 'arena_eventstore_events_appended_total', { category: 'user' })).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'arena_relay_position')).toBeGreaterThan(0);
      expect(sample(after, 'arena_relay_lag_events')).toBe(0);
      expect(sample(after, 'arena_projection_position', { projection: 'users', store: 'postgres' })).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'arena_projection_lag_events', { projection: 'users' })).toBe(0);
      expect(sample(after, 'arena_projection_quarantined_events', { projection: 'users' })).toBe(0);
      expect(sample(after, 'arena_bus_consumer_group_lag', { group: 'projection.users' })).toBe(0);
      expect(sample(after, 'arena_bus_handler_duration_seconds_count', { group: 'projection.users', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'arena_processes_alive', { role: 'relay' })).toBe(1);
      expect(sample(after, 'arena_websocket_connections')).toBe(0);
      expect(sample(after, 'arena_process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(sample(after, 'arena_nodejs_eventloop_lag_seconds')).toBeDefined();
    });

    it('answers other hosts only with the metrics token', async () => {
      const address = nonLoopbackAddress();
      if (!address) {
        console.log('SKIPPED: no non-loopback IPv4 address on this host');
        return;
      }
      const remote = baseUrl.replace('127.0.0.1', address);
      expect((await fetch(`${remote}/metrics`)).status).toBe(401);
      expect((await fetch(`${remote}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token-xx' } })).status).toBe(401);
      const allowed = await fetch(`${remote}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain('arena_http_request_duration_seconds');
    });
  });

  describe('arena status', () => {
    const status = async (args: string[]) => {
      const cli = runCli(['status', ...args], env);
      const code = await cli.exited;
      return { code, output: cli.output() };
    };

    it('prints the table from the running app and exits 0 when nothing is stuck', async () => {
      const { code, output } = await status([]);
      expect(output).toContain('status from running app (admin channel)');
      expect(output).toMatch(/projection\s+users \(postgres\)\s+\d+\s+0\s+0\s+0\s+-\s+ok/);
      expect(output).toMatch(/relay\s+main\s+\d+:\d+\s+0/);
      expect(output).toMatch(/process\s+.*relay.*alive/);
      expect(code).toBe(0);
    });

    it('--json, and exit 1 with the reason when a consumer group is stuck', async () => {
      const healthy = await status(['--json']);
      expect(healthy.code).toBe(0);
      const parsed = JSON.parse(healthy.output) as { ok: boolean; projections: { name: string; position: number; lag: number }[]; workers: { roles: string[]; alive: boolean }[] };
      expect(parsed.ok).toBe(true);
      expect(parsed.projections.find((p) => p.name === 'users')).toMatchObject({ lag: 0 });
      expect(parsed.workers.some((w) => w.alive && w.roles.includes('projections'))).toBe(true);

      // A consumer group that nobody runs, an hour behind on the user topic: stuck.
      const pg = new Client({ connectionString: `postgres://arena:arena@127.0.0.1:${pgPort}/arena` });
      await pg.connect();
      try {
        // One message behind on the user topic. Messages every group committed are trimmed, so the
        // message itself may be gone: then the age is unknown and it is stuck for want of a consumer.
        const end = await pg.query(`SELECT partition, next_offset::int AS next FROM bus.partitions WHERE topic = 'arena.user' AND next_offset > 0 LIMIT 1`);
        const { partition, next } = end.rows[0] as { partition: number; next: number };
        await pg.query(`UPDATE bus.messages SET created_at = now() - interval '1 hour' WHERE topic = 'arena.user' AND partition = $1 AND "offset" = $2`, [partition, next - 1]);
        await pg.query(
          `INSERT INTO bus.group_offsets (group_id, topic, partition, committed_offset) VALUES ('arena.projection.ghost', 'arena.user', $1, $2)`,
          [partition, next - 1],
        );
        const stuck = await status([]);
        expect(stuck.code).toBe(1);
        expect(stuck.output).toMatch(/group\s+projection\.ghost\s+\d+\s+1\s+(\d+|-)\s+.*STUCK/);
        expect(stuck.output).toMatch(/consumer group projection\.ghost: 1 messages behind( for \d+s|, no consumer reporting progress)/);
      } finally {
        await pg.query(`DELETE FROM bus.group_offsets WHERE group_id = 'arena.projection.ghost'`);
        await pg.end();
      }
      expect((await status([])).code).toBe(0);
    });
  });

  describe("analysts' SQL (ClickHouse HTTP interface, read-only)", () => {
    let analyst: ClickHouseClient;
    beforeAll(() => {
      const password = readFileSync(join(dataDir, 'analyst-password'), 'utf8').trim();
      analyst = createClient({ url: analyticsUrl, username: 'analyst', password, database: 'arena', log: { level: 127 as never } });
    });
    afterAll(async () => analyst.close());

    it('answers SELECTs on the tables the API uses, with query parameters and formats', async () => {
      expect((await analyst.ping()).success).toBe(true);
      const tables = await (await analyst.query({ query: `SELECT name FROM system.tables WHERE database = 'arena' ORDER BY name`, format: 'JSONEachRow' })).json<{ name: string }>();
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['laps', 'telemetry_points']));
      const counted = await (await analyst.query({ query: 'SELECT count() AS n FROM telemetry_points', format: 'JSONEachRow' })).json<{ n: string }>();
      expect(Number(counted[0]!.n)).toBeGreaterThanOrEqual(0);
      const bound = await (await analyst.query({ query: 'SELECT {x:UInt32} * 2 AS y', query_params: { x: 21 }, format: 'JSON' })).json<{ y: string }>();
      // UInt64 comes quoted in JSON, as from a ClickHouse server (output_format_json_quote_64bit_integers=1).
      expect(bound.data).toEqual([{ y: '42' }]);
      expect(await (await analyst.query({ query: 'SELECT number FROM system.numbers LIMIT 3', format: 'CSV' })).text()).toBe('0\n1\n2\n');
    });

    const refusal = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        return error as { code?: string; type?: string };
      }
      throw new Error('expected a refusal');
    };

    it('refuses INSERT, DROP, ALTER, SYSTEM, file access and every settings change', async () => {
      const readonly = { code: '164', type: 'READONLY' };
      expect(await refusal(() => analyst.insert({ table: 'laps', values: [{ session_id: 'x' }], format: 'JSONEachRow' }))).toMatchObject(readonly);
      expect(await refusal(() => analyst.command({ query: 'DROP TABLE laps' }))).toMatchObject(readonly);
      expect(await refusal(() => analyst.command({ query: 'ALTER TABLE laps DELETE WHERE 1' }))).toMatchObject(readonly);
      expect(await refusal(() => analyst.command({ query: 'SYSTEM DROP MARK CACHE' }))).toMatchObject(readonly);
      expect(await refusal(() => analyst.query({ query: "SELECT * FROM file('/etc/passwd', 'LineAsString')" }))).toMatchObject(readonly);
      expect(await refusal(() => analyst.command({ query: 'SET max_execution_time = 0' }))).toMatchObject(readonly);
      expect(await refusal(() => analyst.query({ query: 'SELECT 1 SETTINGS readonly = 0' }))).toMatchObject(readonly);
      expect(await refusal(() => analyst.query({ query: 'SELECT 1', clickhouse_settings: { max_memory_usage: '0' } }))).toMatchObject(readonly);
      // The tables are untouched, and the app still writes through its own session.
      const tables = await (await analyst.query({ query: `SELECT count() AS n FROM system.tables WHERE database = 'arena' AND name = 'laps'`, format: 'JSONEachRow' })).json<{ n: string }>();
      expect(Number(tables[0]!.n)).toBe(1);
    });

    it('enforces the result-row limit', async () => {
      expect(await refusal(async () => (await analyst.query({ query: 'SELECT number FROM system.numbers LIMIT 2000000', format: 'JSONEachRow' })).json())).toMatchObject({
        code: '396',
      });
    });

    it('answers 401 without credentials or with a wrong password, with the ClickHouse error headers', async () => {
      const anonymous = await fetch(`${analyticsUrl}/?query=SELECT%201`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('x-clickhouse-exception-code')).toBe('516');
      expect(await anonymous.text()).toMatch(/^Code: 516\. DB::Exception: .*\(AUTHENTICATION_FAILED\)/);
      const wrong = createClient({ url: analyticsUrl, username: 'analyst', password: 'not-the-password', log: { level: 127 as never } });
      expect(await refusal(() => wrong.query({ query: 'SELECT 1' }))).toMatchObject({ code: '516' });
      await wrong.close();
      const headers = await fetch(`${analyticsUrl}/?query=SELECT%201&default_format=JSONCompact`, {
        headers: { 'X-ClickHouse-User': 'analyst', 'X-ClickHouse-Key': readFileSync(join(dataDir, 'analyst-password'), 'utf8').trim() },
      });
      expect(headers.status).toBe(200);
      expect(headers.headers.get('x-clickhouse-format')).toBe('JSONCompact');
      expect((await headers.json()) as unknown).toMatchObject({ data: [[1]] });
    });
  });

  describe('arena replay through the running app, under load', () => {
    const T0 = Date.UTC(2024, 0, 15, 14, 30, 0);
    const points = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        timestamp: new Date(T0 + (from + i) * 50).toISOString(),
        speed_kmh: 150 + ((from + i) % 40),
        throttle_input: 1,
        brake_input: 0,
        steering_input: 0.1,
        gear: 5,
        rpm: 7000,
      }));

    const replay = async (name: string) => {
      const cli = runCli(['replay', name], env);
      const code = await cli.exited;
      return { code, output: cli.output() };
    };

    it('rebuilds PostgreSQL and ClickHouse read models with no request failing, and ends where a fresh replay ends', async () => {
      const driver: Driver = await registerDriver(baseUrl, 'replayer');
      const sessionId = await createSession(baseUrl, driver);
      let uploaded = 0;
      const upload = async () => {
        const response = await http(baseUrl, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, {
          token: driver.token,
          body: { data_points: points(uploaded, 100), batch_id: `batch-${uploaded}` },
        });
        if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${JSON.stringify(response.body)}`);
        uploaded += 100;
      };
      for (let i = 0; i < 5; i++) await upload();

      const failures: string[] = [];
      let requests = 0;
      let running = true;
      const loop = async (name: string, work: (i: number) => Promise<void>) => {
        for (let i = 0; running; i++) {
          try {
            await work(i);
            requests++;
          } catch (error) {
            failures.push(`${name} #${i}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      };
      const expectStatus = (what: string, response: { status: number; body: unknown }, status: number) => {
        if (response.status !== status) throw new Error(`${what} answered ${response.status}: ${JSON.stringify(response.body)}`);
      };
      let lastName = '';
      const slowReadYourWrites: number[] = [];
      const load = Promise.all([
        loop('rename', async (i) => {
          const name = `Driver ${i}`;
          const startedAt = Date.now();
          const response = await http(baseUrl, 'PUT', '/api/v1/users/me', { token: driver.token, body: { full_name: name } });
          const tookMs = Date.now() - startedAt;
          expectStatus('PUT /users/me', response, 200);
          lastName = name;
          if (response.body.full_name === name) return;
          // The handler waits at most 5 s for the projection, then answers from what it has
          // (documented read-your-writes bound). A stale answer sooner than that would mean the
          // replay showed a reader an old or half-built model.
          if (tookMs < 5000) throw new Error(`PUT /users/me answered full_name ${String(response.body.full_name)} after ${tookMs} ms`);
          slowReadYourWrites.push(tookMs);
        }),
        loop('me', async () => expectStatus('GET /auth/me', await http(baseUrl, 'GET', '/api/v1/auth/me', { token: driver.token }), 200)),
        loop('session', async () =>
          expectStatus('GET session', await http(baseUrl, 'GET', `/api/v1/telemetry/sessions/${sessionId}`, { token: driver.token }), 200),
        ),
        loop('upload', async () => {
          if (uploaded < 2000) await upload();
          else await new Promise((resolve) => setTimeout(resolve, 200));
        }),
      ]);

      const users = await replay('users');
      const analytics = await replay('telemetry-analytics');
      running = false;
      await load;

      expect(users.output).toContain('replayed through the running app (admin channel)');
      expect(users.output).toMatch(/users: \d+ of \d+ events/);
      if (users.code !== 0) console.log(`arena replay users exited ${users.code}:\n${users.output}`); // what the CLI said, when it fails
      expect(users.code).toBe(0);
      expect(analytics.output).toContain('replayed through the running app (admin channel)');
      expect(analytics.code).toBe(0);
      expect(failures).toEqual([]);
      expect(requests).toBeGreaterThan(10);
      if (slowReadYourWrites.length > 0) console.log(`read-your-writes waits that hit the 5 s bound under load: ${slowReadYourWrites.join(', ')} ms`);

      const pg = new Client({ connectionString: `postgres://arena:arena@127.0.0.1:${pgPort}/arena` });
      await pg.connect();
      const password = readFileSync(join(dataDir, 'analyst-password'), 'utf8').trim();
      const analyst = createClient({ url: analyticsUrl, username: 'analyst', password, database: 'arena', log: { level: 127 as never } });
      const snapshot = async () => ({
        users: (await pg.query('SELECT * FROM users ORDER BY id')).rows as unknown[],
        points: await (
          await analyst.query({
            query: 'SELECT count() AS points, sum(speed_kmh) AS speed, min(ts) AS first, max(ts) AS last FROM telemetry_points WHERE session_id = {s:UUID}',
            query_params: { s: sessionId },
            format: 'JSONEachRow',
          })
        ).json(),
      });
      const caughtUp = async () => {
        for (let attempt = 0; attempt < 60; attempt++) {
          const status = runCli(['status', '--json'], env);
          if ((await status.exited) === 0) {
            const parsed = JSON.parse(status.output()) as { projections: { lag: number | null }[]; relay: { lag: number } };
            if (parsed.relay.lag === 0 && parsed.projections.every((p) => (p.lag ?? 0) === 0)) return;
          }
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        throw new Error('projections did not catch up');
      };
      try {
        await caughtUp();
        const afterLoad = await snapshot();
        expect(afterLoad.points).toEqual([expect.objectContaining({ points: String(uploaded) })]);
        expect(afterLoad.users).toContainEqual(expect.objectContaining({ username: driver.username, full_name: lastName }));

        // A fresh replay of the same history, with nothing else going on, gives the same rows.
        expect((await replay('users')).code).toBe(0);
        expect((await replay('telemetry-analytics')).code).toBe(0);
        expect(await snapshot()).toEqual(afterLoad);
      } finally {
        await pg.end();
        await analyst.close();
      }
    });
  });
});
