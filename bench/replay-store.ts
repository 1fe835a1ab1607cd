/**
 * A replay history kept for A/B runs: starts the bench app, uploads BENCH_REPLAY_POINTS telemetry
 * points through the API, stops the app, appends BENCH_REPLAY_EVENTS fixture events (as
 * `bench:replay` does), then prints the environment `arena` needs (DATABASE_URL, DATA_DIR, …) as
 * one JSON line on stdout and keeps the engines up until it gets SIGINT/SIGTERM. Compare builds by
 * running `node <dist>/src/cli.js replay all` with that environment, between raw read passes.
 */
import { writeFileSync } from 'node:fs';
import { createKnex } from '../src/infrastructure/database/knex';
import { createLogger } from '../src/infrastructure/logging/logger';
import { PostgresEventStore } from '../src/infrastructure/eventstore/postgres-event-store';
import { startBenchApp } from './lib/bench-app';
import { postJson, sessionPoints } from './lib/bench-telemetry';
import { appendReplayHistory } from '../test/fixtures/events/replay-history';

const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 20_000);
const POINTS = Number(process.env.BENCH_REPLAY_POINTS ?? 100_000);
const ENV_FILE = process.env.BENCH_REPLAY_ENV_FILE;
const log = (message: string) => console.error(`[replay store] ${message}`);

async function main(): Promise<void> {
  const app = await startBenchApp({});
  const user = await postJson(app.url, '/auth/register', { body: JSON.stringify({ username: 'replay_bench', email: 'replay@bench.io', password: 'BenchPass123' }) });
  const token = String(user.access_token);
  for (let done = 0, seed = 1; done < POINTS; seed++) {
    const count = Math.min(50_000, POINTS - done);
    const points = sessionPoints(seed, count, 50);
    const session = await postJson(app.url, '/telemetry/sessions', { token, body: JSON.stringify({ session_name: 'replay', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 }) });
    for (let start = 0; start < points.length; start += 2_000) {
      await postJson(app.url, `/telemetry/sessions/${String(session.id)}/data`, { token, body: JSON.stringify({ data_points: points.slice(start, start + 2_000), batch_id: `replay-${seed}-${start}` }) });
    }
    done += count;
  }
  await new Promise((done) => setTimeout(done, 3_000));
  await app.stopApp();
  const db = createKnex(app.databaseUrl);
  const store = new PostgresEventStore(db, createLogger({ level: 'warn' }));
  await appendReplayHistory(store, EVENTS, { onProgress: (n) => log(`${n} appended`) });
  await db.destroy();
  const line = JSON.stringify(app.env);
  if (ENV_FILE) writeFileSync(ENV_FILE, line);
  console.log(line);
  log('ready; SIGTERM to stop');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await app.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
