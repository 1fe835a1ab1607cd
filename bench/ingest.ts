/**
 * Telemetry ingest throughput, `npm run bench:ingest` (ts-node --transpile-only bench/ingest.ts):
 * points per second from HTTP upload to rows queryable in ClickHouse, next to what the raw
 * @clickhouse/client inserts on the same machine and engine.
 *
 * The whole system runs in this process, as `arena start` does: embedded PostgreSQL (event store,
 * bus, read models) in a temp dir, chDB in the same temp dir, the relay, the projections, the
 * analytics projection and the API. Recorded-style points come from the test trace generator; the
 * request bodies are serialized before the clock starts.
 *
 * Environment: BENCH_POINTS (default 200000), BENCH_BATCH (points per upload, 2000),
 * BENCH_SESSIONS (sessions uploading concurrently, 4), BENCH_HZ (sample rate, 50);
 * BENCH_CPU_PROFILE=file.cpuprofile writes a V8 CPU profile of this process from the first upload
 * until the points are queryable (open it in Chrome DevTools); BENCH_HEAP_PROFILE=file.heapprofile
 * writes a sampling heap profile over the same span (bytes allocated by stack, sampled every 32 KiB;
 * open it in Chrome DevTools' Memory tab).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { z } from 'zod';
import { validateTelemetryBatch } from '../src/domain/racing/telemetry-point';
import { pointRows, telemetryAnalyticsProjection, TELEMETRY_POINT_COLUMNS, TELEMETRY_POINTS_TABLE } from '../src/projections/clickhouse/racing/telemetry-analytics-projection';
import { startBenchApp } from './lib/bench-app';
import { startCpuProfile, startHeapProfile } from './lib/inspector-profiles';
import { postJson, sessionPoints } from './lib/bench-telemetry';
import { runBench } from './lib/run-bench';

const POINTS = Number(process.env.BENCH_POINTS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 2_000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 4);
const HZ = Number(process.env.BENCH_HZ ?? 50);
const RAW_LARGE_CHUNK = 50_000;

const seconds = (ms: number) => ms / 1000;
const rate = (points: number, ms: number) => Math.round(points / seconds(ms));

async function main(): Promise<void> {
  const app = await startBenchApp({});
  try {
    const { config, services } = app;

    console.log(`generating ${POINTS.toLocaleString('en')} points (${SESSIONS} sessions, ${HZ} Hz) ...`);
    const perSession = Math.ceil(POINTS / SESSIONS);
    const sessions = Array.from({ length: SESSIONS }, (_, i) => sessionPoints(100 + i, Math.min(perSession, POINTS - i * perSession), HZ));
    const total = sessions.reduce((sum, points) => sum + points.length, 0);

    const user = await postJson(app.url, '/auth/register', { body: JSON.stringify({ username: 'bench_driver', email: 'bench@x.io', password: 'BenchPass123' }) });
    const token = String(user.access_token);
    const uploads = await Promise.all(
      sessions.map(async (points, i) => {
        const created = await postJson(app.url, '/telemetry/sessions', {
          token,
          body: JSON.stringify({ session_name: `bench ${i}`, track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 }),
        });
        const bodies: string[] = [];
        for (let start = 0; start < points.length; start += BATCH) {
          bodies.push(JSON.stringify({ data_points: points.slice(start, start + BATCH), batch_id: `bench-${i}-${start}` }));
        }
        return { sessionId: String(created.id), bodies };
      }),
    );

    const Count = z.object({ n: z.coerce.number() });
    const countInClickHouse = async () =>
      (await services.analytics.query(`SELECT count() AS n FROM {db}.${TELEMETRY_POINTS_TABLE}`, {}, Count))[0]?.n ?? 0;

    console.log(`uploading in batches of ${BATCH.toLocaleString('en')} ...`);
    const profiler = await startCpuProfile(process.env.BENCH_CPU_PROFILE);
    const heapProfiler = await startHeapProfile(process.env.BENCH_HEAP_PROFILE);
    const cpuBefore = threadCpuMs();
    const startedAt = performance.now();
    let laps = 0;
    await Promise.all(
      uploads.map(async ({ sessionId, bodies }) => {
        for (const body of bodies) {
          const answer = await postJson(app.url, `/telemetry/sessions/${sessionId}/data`, { token, body });
          laps += Number(answer.laps_completed);
        }
      }),
    );
    const acceptedMs = performance.now() - startedAt;
    while ((await countInClickHouse()) < total) await new Promise((resolve) => setTimeout(resolve, 20));
    const queryableMs = performance.now() - startedAt;
    const cpuAfter = threadCpuMs();
    await profiler.stop();
    if (process.env.BENCH_CPU_PROFILE) console.log(`CPU profile of the upload written to ${process.env.BENCH_CPU_PROFILE}`);
    await heapProfiler.stop();
    if (process.env.BENCH_HEAP_PROFILE) console.log(`heap profile of the upload written to ${process.env.BENCH_HEAP_PROFILE}`);
    const queried = await countInClickHouse();

    // The raw client on the same chDB data dir and engine, into a table of the same schema.
    const rows: unknown[][] = [];
    for (const [i, points] of sessions.entries()) {
      const validated = validateTelemetryBatch(points, { maxPoints: Number.MAX_SAFE_INTEGER });
      if (!validated.ok) throw validated.error;
      rows.push(...pointRows({ sessionId: uploads[i]!.sessionId, ownerId: String((user.user as { id: string }).id), trackName: 'Generated Ring', carModel: 'GT3' }, validated.batch).rows);
    }
    const raw = rawClient(join(config.dataDir, 'chdb'));
    const rawInsert = async (table: string, chunkRows: number): Promise<number> => {
      await raw.command({ query: `DROP TABLE IF EXISTS ${config.CLICKHOUSE_DATABASE}.${table}` });
      for (const statement of [telemetryAnalyticsProjection.tables[TELEMETRY_POINTS_TABLE]!(table)].flat()) await raw.command({ query: statement.replace('{db}', config.CLICKHOUSE_DATABASE) });
      const started = performance.now();
      for (let start = 0; start < rows.length; start += chunkRows) {
        await raw.insert({ table: `${config.CLICKHOUSE_DATABASE}.${table}`, values: rows.slice(start, start + chunkRows), columns: [...TELEMETRY_POINT_COLUMNS] as [string, ...string[]], format: 'JSONCompactEachRow' });
      }
      return performance.now() - started;
    };
    const rawSameBatchMs = await rawInsert('bench_raw_same_batch', BATCH);
    const rawLargeMs = await rawInsert('bench_raw_large', RAW_LARGE_CHUNK);
    await raw.close();

    console.log(`\n${total.toLocaleString('en')} points in ${uploads.length} sessions, ${laps} laps detected; ClickHouse count() = ${queried.toLocaleString('en')}`);
    console.table([
      { path: 'HTTP upload -> 201 (event appended, laps decided)', rows_per_insert: BATCH, seconds: seconds(acceptedMs), 'points/s': rate(total, acceptedMs) },
      { path: 'HTTP upload -> rows queryable in ClickHouse', rows_per_insert: BATCH, seconds: seconds(queryableMs), 'points/s': rate(total, queryableMs) },
      { path: 'raw @clickhouse/client insert (chDB), same batches', rows_per_insert: BATCH, seconds: seconds(rawSameBatchMs), 'points/s': rate(rows.length, rawSameBatchMs) },
      { path: 'raw @clickhouse/client insert (chDB), large chunks', rows_per_insert: RAW_LARGE_CHUNK, seconds: seconds(rawLargeMs), 'points/s': rate(rows.length, rawLargeMs) },
    ]);
    const uploadsDone = uploads.reduce((sum, upload) => sum + upload.bodies.length, 0);
    const perUpload = (ms: number) => Number((ms / uploadsDone).toFixed(1));
    console.log(`CPU of this process per ${BATCH.toLocaleString('en')}-point upload, first upload to queryable (the bench's own requests included):`);
    console.table([
      { thread: 'main (event loop: HTTP, command, bus, projections)', 'ms per upload': perUpload(cpuAfter.main - cpuBefore.main) },
      { thread: 'all others (chDB, libuv pool, V8 helpers)', 'ms per upload': perUpload(cpuAfter.others - cpuBefore.others) },
      { thread: 'PostgreSQL (every process of the embedded server)', 'ms per upload': perUpload(cpuAfter.postgres - cpuBefore.postgres) },
    ]);
  } finally {
    await app.close();
  }
}

const TICKS_TO_MS = 10; // USER_HZ is 100 on Linux

/** A /proc stat line's fields after the command name (field 3 on), so fields[1] is the parent pid and fields[11..12] utime and stime. */
const statFields = (stat: string): string[] => stat.slice(stat.lastIndexOf(')') + 2).split(' ');

/**
 * CPU time (ms) of this process's main thread, of all its other threads, and of the embedded
 * PostgreSQL (every `postgres` process descending from this one: server, backends, writers), from
 * /proc (Linux; zeros elsewhere). Exited processes are not counted: backends live as long as the pool.
 */
function threadCpuMs(): { main: number; others: number; postgres: number } {
  let main = 0;
  let others = 0;
  let postgres = 0;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const fields = statFields(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
      const ms = (Number(fields[11]) + Number(fields[12])) * TICKS_TO_MS;
      if (Number(tid) === process.pid) main += ms;
      else others += ms;
    }
    const processes = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return [{ pid: Number(pid), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), fields: statFields(stat) }];
      } catch {
        return []; // exited meanwhile
      }
    });
    const parentOf = new Map(processes.map((p) => [p.pid, Number(p.fields[1])]));
    const descendsFromThis = (pid: number): boolean => {
      for (let at = parentOf.get(pid); at !== undefined && at > 1; at = parentOf.get(at)) if (at === process.pid) return true;
      return false;
    };
    for (const p of processes) {
      if (p.name.startsWith('postgres') && descendsFromThis(p.pid)) postgres += (Number(p.fields[11]) + Number(p.fields[12])) * TICKS_TO_MS;
    }
  } catch {
    return { main: 0, others: 0, postgres: 0 };
  }
  return { main, others, postgres };
}

function rawClient(path: string): ClickHouseClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createChdbConnection } = require('chdb/connection') as typeof import('chdb/connection');
  return createClient({ connection: createChdbConnection({ path }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']> });
}

runBench(main);
