/**
 * Where this process's memory goes while telemetry is ingested, `npm run bench:memory`
 * (ts-node --transpile-only --expose-gc bench/memory-profile.ts): the whole system in this process
 * (bench/lib/bench-app.ts), snapshots of RSS split into the V8 heap, external/ArrayBuffers,
 * libchdb's mapped pages, anonymous native memory (malloc arenas, chDB's allocations), and chDB's
 * own accounting (MemoryTracking, its caches), at start, after ingesting, and after idling.
 *
 * The start and the end are read as the memory row of bench/app-bench.ts reads them: once the system is
 * idle (bench/lib/system-idle.ts) and RSS has settled.
 *
 * Environment: BENCH_MEMORY_POINTS (default 200000), BENCH_IDLE_SECONDS (default 5: one idle
 * snapshot; a list such as `5,15,30` takes one at each of those seconds after the system went idle,
 * each read first as the app left it, then after a forced gc()), BENCH_MEMORY_PROBE=1 (then, at the end:
 * chDB's SYSTEM DROP … CACHE statements and SYSTEM JEMALLOC PURGE, with RSS before and after).
 * glibc's own arenas are not probed here: calling malloc_stats/malloc_trim into the running process
 * through gdb deadlocked once (an arena lock held by a thread gdb had stopped); it was done by hand.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { startBenchApp, type BenchApp } from './lib/bench-app';
import { postJson, sessionPoints } from './lib/bench-telemetry';
import { memorySnapshot, type MemorySnapshot } from './lib/memory-snapshot';
import { runBench } from './lib/run-bench';
import { settledRss, waitForSystemIdle } from './lib/system-idle';

const POINTS = Number(process.env.BENCH_MEMORY_POINTS ?? 200_000);
const IDLE_STEPS = (process.env.BENCH_IDLE_SECONDS ?? '5').split(',').map(Number);
const PROBE = process.env.BENCH_MEMORY_PROBE === '1';
const BATCH = 2_000;
const SESSIONS = 4;
const PER_SESSION = 50_000;
const HZ = 50;

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function ingest(app: BenchApp, token: string, total: number): Promise<void> {
  let done = 0;
  let seed = 1;
  while (done < total) {
    const sizes = Array.from({ length: SESSIONS }, () => {
      const count = Math.max(0, Math.min(PER_SESSION, total - done));
      done += count;
      return count;
    }).filter((count) => count > 0);
    await Promise.all(
      sizes.map(async (count) => {
        seed += 1;
        const points = sessionPoints(seed, count, HZ);
        const session = await postJson(app.url, '/telemetry/sessions', { token, body: JSON.stringify({ session_name: 'm', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 }) });
        for (let start = 0; start < points.length; start += BATCH) {
          await postJson(app.url, `/telemetry/sessions/${String(session.id)}/data`, { token, body: JSON.stringify({ data_points: points.slice(start, start + BATCH), batch_id: `m-${seed}-${start}` }) });
        }
      }),
    );
  }
}

/** What chDB could still give back at the end: its caches, then its jemalloc's free pages. */
async function probe(app: BenchApp, take: (at: string) => Promise<void>): Promise<void> {
  const version = await app.analytics.query('SELECT version() AS v', {}, z.object({ v: z.string() }));
  console.error(`[memory] chDB engine ${version[0]?.v ?? '?'}`);
  const parts = await app.analytics.query(
    `SELECT count() AS parts, toFloat64(sum(primary_key_bytes_in_memory_allocated)) AS pk, toFloat64(sum(bytes_on_disk)) AS disk FROM system.parts WHERE active`,
    {},
    z.object({ parts: z.coerce.number(), pk: z.coerce.number(), disk: z.coerce.number() }),
  );
  console.error(`[memory] chDB active parts ${parts[0]?.parts ?? 0}, primary keys in memory ${mb(parts[0]?.pk ?? 0)} MB, on disk ${mb(parts[0]?.disk ?? 0)} MB`);
  for (const statement of ['SYSTEM DROP MARK CACHE', 'SYSTEM DROP UNCOMPRESSED CACHE', 'SYSTEM DROP MMAP CACHE', 'SYSTEM DROP QUERY CACHE', 'SYSTEM DROP COMPILED EXPRESSION CACHE', 'SYSTEM DROP PRIMARY INDEX CACHE', 'SYSTEM DROP QUERY CONDITION CACHE']) {
    const outcome = await app.analytics.command(statement).then(
      () => 'ok',
      (error: unknown) => `refused: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 160) ?? ''}`,
    );
    console.error(`[memory] ${statement}: ${outcome}`);
  }
  await take('after SYSTEM DROP … CACHE');
  await app.analytics.command('SYSTEM JEMALLOC PURGE');
  await take('after SYSTEM JEMALLOC PURGE');
}

async function main(): Promise<void> {
  const app = await startBenchApp({});
  const snapshots: Array<{ at: string } & MemorySnapshot> = [];
  const take = async (at: string, gc = true) => {
    const snapshot = await memorySnapshot(app.analytics, { gc });
    snapshots.push({ at, ...snapshot });
    console.error(`[memory] ${at}: rss ${mb(snapshot.rss)} MB`);
  };
  try {
    const user = await postJson(app.url, '/auth/register', { body: JSON.stringify({ username: 'memory_driver', email: 'memory@x.io', password: 'BenchPass123' }) });
    await waitForSystemIdle(app, 600_000);
    await settledRss(IDLE_STEPS[0] ?? 5, 60);
    await take('start');
    await ingest(app, String(user.access_token), POINTS);
    const Count = z.object({ n: z.coerce.number() });
    while (((await app.analytics.query('SELECT count() AS n FROM {db}.telemetry_points', {}, Count))[0]?.n ?? 0) < POINTS) await new Promise((done) => setTimeout(done, 50));
    await take('ingested');
    await waitForSystemIdle(app, 1_800_000);
    await take('system idle');
    const idleFrom = performance.now();
    for (const seconds of IDLE_STEPS) {
      await new Promise((done) => setTimeout(done, Math.max(0, seconds * 1000 - (performance.now() - idleFrom))));
      await take(`idle ${seconds} s, as left`, false);
      await take(`idle ${seconds} s, gc()`);
    }
    const settled = await settledRss(IDLE_STEPS[0] ?? 5, 60);
    await take(`settled (${settled.seconds} s more, ${settled.majorGcs} major GCs)`);
    console.error(`[memory] RSS each second until settled: ${settled.trace.map(mb).join(' ')} MB`);
    if (PROBE) await probe(app, take);
    console.table(
      snapshots.map(({ at, ...s }) => ({
        at,
        rss: mb(s.rss),
        heapUsed: mb(s.heapUsed),
        heapTotal: mb(s.heapTotal),
        external: mb(s.external),
        arrayBuffers: mb(s.arrayBuffers),
        libchdb: mb(s.libchdbRss),
        otherFiles: mb(s.otherFileRss),
        anonNative: mb(s.anonRss - s.heapTotal),
        chdbTracked: mb(s.chdbMemoryTracking),
        jemallocResident: s.chdbJemalloc ? mb(s.chdbJemalloc.resident) : '-',
        jemallocAllocated: s.chdbJemalloc ? mb(s.chdbJemalloc.allocated) : '-',
        threads: s.threads,
      })),
    );
    for (const { at, chdbCaches } of snapshots) console.error(at, JSON.stringify(Object.fromEntries(Object.entries(chdbCaches).map(([k, v]) => [k, mb(v)]))));
    console.error(readFileSync('/proc/self/status', 'utf8').split('\n').filter((line) => /^(VmRSS|RssAnon|RssFile|Threads)/.test(line)).join('\n'));
  } finally {
    await app.close();
  }
}

runBench(main);
