/**
 * Where a small command's cost goes (ad hoc, for profiling: `ts-node --transpile-only bench/commands-profile.ts`,
 * add `node --cpu-prof` for a CPU profile of the app). Starts the app as bench/app-bench.ts does, then
 * runs `POST /telemetry/sessions` and `PUT /users/me` at BENCH_CONCURRENCY (default 32) clients for
 * BENCH_SECONDS (default 5) each and prints, per command: the statements the app's knex pool sent
 * (grouped by SQL text), PostgreSQL transactions committed, CPU of node (this process, the load
 * generator's thread included; then by thread: node's main thread, the load generator's worker, the
 * rest) and of the PostgreSQL server's processes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { BENCH_DATABASE, startBenchApp, type BenchApp } from './lib/bench-app';
import { runLoad, type LoadRequest } from './lib/http-load';
import { runBench } from './lib/run-bench';
import { threadTicks, type ThreadTicks } from './lib/thread-cpu';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

/** utime + stime (clock ticks, 100 a second) of every process whose parent is `parent`, and of `parent`. */
function treeTicks(parent: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(entry) === parent || Number(fields[1]) === parent) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/** CPU ticks (10 ms) between two snapshots: this process's main thread (tid = pid) and its other live threads (the load generator's worker has ended by then: it reports its own). */
function ticksByParty(before: ThreadTicks, after: ThreadTicks): { main: number; other: number } {
  const parties = { main: 0, other: 0 };
  for (const [tid, now] of after) {
    const used = now.ticks - (before.get(tid)?.ticks ?? 0);
    if (used <= 0) continue;
    if (Number(tid) === process.pid) parties.main += used;
    else parties.other += used;
  }
  return parties;
}

async function register(app: BenchApp, i: number): Promise<string> {
  const response = await fetch(`${app.url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: `prof_user_${i}`, email: `prof${i}@bench.io`, password: 'BenchPass123' }),
  });
  const answer = (await response.json()) as { access_token: string };
  return answer.access_token;
}

async function xactCommit(client: pg.Client): Promise<number> {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const result = await client.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [BENCH_DATABASE]);
  return Number(result.rows[0]?.n ?? 0);
}

async function main(): Promise<void> {
  const app = await startBenchApp({ ...(process.env.KAFKA_BROKERS ? { kafkaBrokers: process.env.KAFKA_BROKERS } : {}) });
  const postmaster = Number(readFileSync(join(app.dataDir, '..', 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const stats = new pg.Client({ connectionString: app.databaseUrl });
  await stats.connect();
  const statements = new Map<string, number>();
  app.services.db.on('query', (query: { sql: string }) => {
    const sql = query.sql.replace(/\s+/g, ' ').slice(0, 110);
    statements.set(sql, (statements.get(sql) ?? 0) + 1);
  });
  try {
    const tokens = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => register(app, i)));
    const body = JSON.stringify({ session_name: 'bench', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 });
    const kinds: Array<[string, LoadRequest[]]> = [
      ['create session', tokens.map((token) => ({ method: 'POST', path: '/api/v1/telemetry/sessions', headers: { authorization: `Bearer ${token}` }, body }))],
      ['update profile', tokens.map((token, i) => ({ method: 'PUT', path: '/api/v1/users/me', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ full_name: `Driver ${i}` }) }))],
    ];
    for (const [name, requests] of kinds) {
      await new Promise((done) => setTimeout(done, 1000));
      statements.clear();
      const commitsBefore = await xactCommit(stats);
      const pgBefore = treeTicks(postmaster);
      const nodeBefore = process.cpuUsage();
      const threadsBefore = threadTicks();
      console.log(`${name}: load from ${process.uptime().toFixed(1)} s of the process`);
      const result = await runLoad({ baseUrl: app.url, requests, concurrency: CONCURRENCY, durationMs: SECONDS * 1000 });
      await new Promise((done) => setTimeout(done, 500)); // let the projections finish what the load left
      const node = process.cpuUsage(nodeBefore);
      const parties = ticksByParty(threadsBefore, threadTicks());
      const pgTicks = treeTicks(postmaster) - pgBefore;
      const commits = (await xactCommit(stats)) - commitsBefore - 1;
      const n = result.requests;
      console.log(`${name}: load until ${process.uptime().toFixed(1)} s of the process`);
      console.log(`\n== ${name} c=${CONCURRENCY}: ${n} commands, ${result.perSecond.toFixed(1)}/s, p50 ${result.p50Ms.toFixed(1)} ms, ${result.errors} errors`);
      console.log(`node CPU ${(((node.user + node.system) / 1000) / n).toFixed(2)} ms/cmd, PostgreSQL CPU ${((pgTicks * 10) / n).toFixed(2)} ms/cmd, PG transactions ${(commits / n).toFixed(2)}/cmd`);
      const perCommand = (ticks: number) => ((ticks * 10) / n).toFixed(2);
      console.log(`node by thread: main ${perCommand(parties.main)} ms/cmd, load generator ${(result.threadCpuMs / n).toFixed(2)} ms/cmd, other threads ${perCommand(parties.other)} ms/cmd`);
      const total = [...statements.values()].reduce((a, b) => a + b, 0);
      console.log(`statements from the app's pool: ${(total / n).toFixed(2)}/cmd`);
      for (const [sql, count] of [...statements].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${(count / n).toFixed(2).padStart(6)}  ${sql}`);
    }
  } finally {
    await stats.end();
    await app.close();
  }
}

runBench(main);
