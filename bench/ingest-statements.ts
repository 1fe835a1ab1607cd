/**
 * Statements per telemetry upload at one client (ad hoc, for profiling:
 * `ts-node --transpile-only bench/ingest-statements.ts`). Starts the app as bench/app-bench.ts does,
 * creates a session, then uploads BENCH_UPLOADS (default 20) 2 000-point batches one after another,
 * GAP_MS apart (so the bus's fan-out of one upload has ended before the next starts), and prints
 * every statement the app's knex pool sent per upload window (the upload's own and what the relay,
 * the bus's consumers and the projections ran for it), with the parameters' bytes, and the main
 * thread's CPU per window.
 */
import { performance } from 'node:perf_hooks';
import { startBenchApp } from './lib/bench-app';
import { postJson, sessionPoints } from './lib/bench-telemetry';
import { runBench } from './lib/run-bench';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 20);
const BATCH = 2_000;
const GAP_MS = 400;

const bindingBytes = (bindings: unknown): number =>
  Array.isArray(bindings) ? bindings.reduce<number>((sum, value) => sum + (typeof value === 'string' ? Buffer.byteLength(value) : Buffer.isBuffer(value) ? value.length : 8), 0) : 0;

async function main(): Promise<void> {
  const app = await startBenchApp({});
  const statements = new Map<string, { count: number; bytes: number }>();
  let counting = false;
  app.services.db.on('query', (query: { sql: string; bindings?: unknown }) => {
    if (!counting) return;
    const sql = query.sql.replace(/\s+/g, ' ').trim().slice(0, 110);
    const entry = statements.get(sql) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += bindingBytes(query.bindings);
    statements.set(sql, entry);
  });
  try {
    const user = await postJson(app.url, '/auth/register', { body: JSON.stringify({ username: 'stmt_driver', email: 'stmt@x.io', password: 'BenchPass123' }) });
    const token = String(user.access_token);
    const created = await postJson(app.url, '/telemetry/sessions', { token, body: JSON.stringify({ session_name: 's', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 }) });
    const points = sessionPoints(11, BATCH * (UPLOADS + 3), 50);
    const bodies = Array.from({ length: UPLOADS + 3 }, (_, i) => JSON.stringify({ data_points: points.slice(i * BATCH, (i + 1) * BATCH), batch_id: `s-${i}` }));
    let mainCpu = 0;
    for (const [i, body] of bodies.entries()) {
      await new Promise((done) => setTimeout(done, GAP_MS));
      counting = i >= 3; // warm-up
      const cpu = process.cpuUsage();
      const started = performance.now();
      await postJson(app.url, `/telemetry/sessions/${String(created.id)}/data`, { token, body });
      await new Promise((done) => setTimeout(done, GAP_MS));
      const used = process.cpuUsage(cpu);
      if (i >= 3) mainCpu += (used.user + used.system) / 1000;
      void started;
    }
    counting = false;
    let total = 0;
    console.log(`statements per upload (${UPLOADS} uploads of ${BATCH} points, one at a time):`);
    for (const [sql, entry] of [...statements].sort((a, b) => b[1].count - a[1].count)) {
      total += entry.count;
      console.log(`  ${(entry.count / UPLOADS).toFixed(2).padStart(5)} ×  ${String(Math.round(entry.bytes / UPLOADS)).padStart(7)} B  ${sql}`);
    }
    console.log(`total ${(total / UPLOADS).toFixed(1)} statements per upload; process CPU (all threads) ${(mainCpu / UPLOADS).toFixed(1)} ms per upload window`);
  } finally {
    await app.close();
  }
}

runBench(main);
