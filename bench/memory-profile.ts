/**
 * Where this process's memory goes while telemetry is ingested, `npm run bench:memory`
 * (ts-node --transpile-only --expose-gc bench/memory-profile.ts): the whole system in this process
 * (bench/lib/bench-app.ts), snapshots of RSS split into the V8 heap, external/ArrayBuffers,
 * libchdb's mapped pages, anonymous native memory (malloc arenas, chDB's allocations), and chDB's
 * own accounting (MemoryTracking, its caches), at start, after ingesting, and after idling.
 *
 * Environment: BENCH_MEMORY_POINTS (default 200000), BENCH_IDLE_SECONDS (default 5).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { startBenchApp, type BenchApp } from './lib/bench-app';
import { postJson, sessionPoints } from './lib/bench-telemetry';
import { memorySnapshot, type MemorySnapshot } from './lib/memory-snapshot';
import { runBench } from './lib/run-bench';

const POINTS = Number(process.env.BENCH_MEMORY_POINTS ?? 200_000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 5);
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

async function main(): Promise<void> {
  const app = await startBenchApp({});
  const snapshots: Array<{ at: string } & MemorySnapshot> = [];
  const take = async (at: string) => {
    const snapshot = await memorySnapshot(app.analytics);
    snapshots.push({ at, ...snapshot });
    console.error(`[memory] ${at}: rss ${mb(snapshot.rss)} MB`);
  };
  try {
    const user = await postJson(app.url, '/auth/register', { body: JSON.stringify({ username: 'memory_driver', email: 'memory@x.io', password: 'BenchPass123' }) });
    await take('start');
    await ingest(app, String(user.access_token), POINTS);
    const Count = z.object({ n: z.coerce.number() });
    while (((await app.analytics.query('SELECT count() AS n FROM {db}.telemetry_points', {}, Count))[0]?.n ?? 0) < POINTS) await new Promise((done) => setTimeout(done, 50));
    await take('ingested');
    await new Promise((done) => setTimeout(done, IDLE_SECONDS * 1000));
    await take(`idle ${IDLE_SECONDS} s`);
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
