/**
 * `npx ts-node --transpile-only bench/pg-socket-floor.ts`: one prepared statement's round trip to
 * the embedded PostgreSQL over loopback TCP and over its Unix socket, alternating, at c=16 on a
 * pg.Pool. Prints per query: wall rate, this process's CPU (process.cpuUsage) and PostgreSQL's
 * (its processes' utime+stime from /proc). The answer is ~2 KB of text, as the list page's
 * signature row is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/infrastructure/database/embedded-postgres';
import { descendantsCpuMs } from './lib/process-cpu';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLIENTS = 16;

async function run(connectionString: string): Promise<{ perSecond: number; nodeUs: number; postgresUs: number }> {
  const pool = new pg.Pool({ connectionString, max: CLIENTS });
  const statement = { name: 'floor', text: "SELECT string_agg(md5(g::text) || '/' || g, ',') FROM generate_series(1, 50) g WHERE $1::int > 0", values: [1] };
  await Promise.all(Array.from({ length: CLIENTS }, () => pool.query(statement)));
  const cpu = process.cpuUsage();
  const postgresBefore = descendantsCpuMs();
  const deadline = Date.now() + SECONDS * 1000;
  let queries = 0;
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < deadline) {
        await pool.query({ ...statement, rowMode: 'array' });
        queries += 1;
      }
    }),
  );
  const elapsed = (Date.now() - startedAt) / 1000;
  const used = process.cpuUsage(cpu);
  const postgresUs = (descendantsCpuMs() - postgresBefore) * 1000;
  await pool.end();
  return { perSecond: queries / elapsed, nodeUs: (used.user + used.system) / queries, postgresUs: postgresUs / queries };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-socket-floor-'));
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: 20000 + Math.floor(Math.random() * 20000), persistent: false });
  try {
    const tcp = server.urlFor('postgres').replace(/\?.*$/, '');
    const url = new URL(tcp);
    const socket = `${tcp}?host=${encodeURIComponent('/tmp')}`;
    void url;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, connectionString] of [['tcp', tcp.replace(/@[^:/]+:/, '@127.0.0.1:')], ['unix socket', socket]] as const) {
        const result = await run(connectionString);
        console.log(`${name.padEnd(12)} ${result.perSecond.toFixed(0)} q/s, node ${result.nodeUs.toFixed(0)} µs/q, PostgreSQL ${result.postgresUs.toFixed(0)} µs/q`);
      }
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
