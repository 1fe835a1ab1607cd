/**
 * Ad hoc measurement for issue 9's "push, not poll" (ts-node --transpile-only bench/commands-push.ts):
 * runs the built `arena start` (dist/) as its own process on a temp DATA_DIR, then prints
 *
 *   - idle: PostgreSQL transactions committed per second (pg_stat_database.xact_commit) and the
 *     node process's CPU share, over BENCH_IDLE_SEC (default 10) with no client connected;
 *   - small commands: POST /telemetry/sessions (read-your-writes included) at 1 client (p50, p95)
 *     and at 32 concurrent clients (commands per second) for BENCH_COMMAND_SEC (default 5).
 *
 * KAFKA_BROKERS set in the environment runs the same on the Kafka bus. Build first (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from './lib/bench-app';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

const IDLE_SEC = Number(process.env.BENCH_IDLE_SEC ?? 10);
const COMMAND_SEC = Number(process.env.BENCH_COMMAND_SEC ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** utime + stime of a process in clock ticks (100 per second on Linux). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Transactions committed in the app's database (statistics are flushed about once a second). */
async function xactCommit(client: Client): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = 'arena'`);
  return Number(result.rows[0].n);
}

/** Autovacuum and autoanalyze runs so far: PostgreSQL's own work, not the app's. */
async function autovacuumRuns(client: Client): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT (sum(autovacuum_count) + sum(autoanalyze_count))::text AS n FROM pg_stat_all_tables`);
  return Number(result.rows[0].n);
}

async function post(url: string, path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-push-'));
  chmodSync(dir, 0o755); // embedded PostgreSQL runs as another user when this runs as root
  const [httpPort, pgPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['dist/src/cli.js', 'start'], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(httpPort),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'warn',
      TOPIC_PREFIX: `bench${Date.now()}.`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const pg = new Client({ connectionString: `postgres://arena:arena@127.0.0.1:${pgPort}/arena` });
  try {
    for (let i = 0; ; i++) {
      const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      if (i > 600) throw new Error('arena start did not become ready');
      await sleep(200);
    }
    await pg.connect();
    const idle = async (label: string) => {
      // PostgreSQL flushes an idle backend's counters up to 10 s late: let earlier work show first.
      await sleep(12_000);
      const [tx0, av0, cpu0, t0] = [await xactCommit(pg), await autovacuumRuns(pg), cpuTicks(child.pid ?? 0), Date.now()];
      await sleep(IDLE_SEC * 1000);
      const [tx1, av1, cpu1, t1] = [await xactCommit(pg), await autovacuumRuns(pg), cpuTicks(child.pid ?? 0), Date.now()];
      const sec = (t1 - t0) / 1000;
      // The measuring queries themselves count as 2 transactions.
      console.log(
        `${label}: ${((tx1 - tx0 - 2) / sec).toFixed(1)} PostgreSQL transactions/s in the app's database ` +
          `(autovacuum/analyze runs meanwhile: ${av1 - av0}), node CPU ${(((cpu1 - cpu0) / 100 / sec) * 100).toFixed(1)} %`,
      );
    };
    await idle('idle before commands');
    if (process.env.BENCH_SAMPLE_ACTIVITY) {
      // Which statements run while idle: pg_stat_activity sampled every few ms.
      const seen = new Map<string, number>();
      const end = Date.now() + 10_000;
      while (Date.now() < end) {
        const rows = await pg.query<{ query: string }>(`SELECT query FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND datname = 'arena'`);
        for (const { query } of rows.rows) seen.set(query.slice(0, 120), (seen.get(query.slice(0, 120)) ?? 0) + 1);
        await sleep(2);
      }
      console.log([...seen].sort((a, b) => b[1] - a[1]).slice(0, 15));
    }

    const registered = await post(url, '/auth/register', { email: 'bench@example.com', username: 'bench_user', password: 'SecurePass123', full_name: 'Bench' });
    const token = String(registered.access_token);
    const createSession = (i: number) =>
      post(url, '/telemetry/sessions', { session_name: `s${i}`, track_name: 'Monza', car_model: 'Ferrari 488 GT3' }, token);
    for (let i = 0; i < 20; i++) await createSession(i); // warm-up

    const latencies: number[] = [];
    const serialEnd = Date.now() + COMMAND_SEC * 1000;
    for (let i = 0; Date.now() < serialEnd; i++) {
      const start = process.hrtime.bigint();
      await createSession(i);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    latencies.sort((a, b) => a - b);
    console.log(`c=1: ${latencies.length} commands, p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p95 ${percentile(latencies, 0.95).toFixed(1)} ms`);

    let done = 0;
    const concurrentEnd = Date.now() + COMMAND_SEC * 1000;
    const [tx0, cpu0] = [await xactCommit(pg), cpuTicks(child.pid ?? 0)];
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        for (let i = 0; Date.now() < concurrentEnd; i++) {
          await createSession(worker * 1_000_000 + i);
          done++;
        }
      }),
    );
    const elapsedSec = (Date.now() - t0) / 1000;
    await sleep(2000); // the projections finish what the last commands appended
    const [tx1, cpu1] = [await xactCommit(pg), cpuTicks(child.pid ?? 0)];
    console.log(
      `c=${CONCURRENCY}: ${(done / elapsedSec).toFixed(0)} commands/s; per command (load-independent): ` +
        `${((tx1 - tx0) / done).toFixed(1)} PostgreSQL transactions, ${(((cpu1 - cpu0) * 10) / done).toFixed(1)} ms node CPU`,
    );
    await idle('idle after commands');
  } finally {
    await pg.end().catch(() => undefined);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
