/**
 * `npm run bench:replay`: `arena replay all` on a larger history than the quick table gives it (at
 * ~1 500 events the CLI's start-up is most of the wall time), against one raw read pass over the
 * same store, in one run. The history: telemetry uploaded through the API (large packed batches,
 * laps found by the server) plus `BENCH_REPLAY_EVENTS` typed events of every PostgreSQL projection
 * appended straight to the store (test/fixtures/events/replay-history.ts) with the app stopped.
 * With BENCH_REPLAY_CHECK_LIVE=1 the app runs while they are appended and its live projections
 * catch up first; after the replay, every projection's tables must then hold the same rows.
 *
 *   BENCH_REPLAY_EVENTS (30 000)   appended events
 *   BENCH_REPLAY_POINTS (100 000)  telemetry points uploaded through the API (2 000 per upload)
 *   BENCH_REPLAY_RUNS   (1)        replays of the same store (each a full rebuild); the median counts
 *   BENCH_REPLAY_NODE_ARGS         extra node flags for the CLI, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`
 *   BENCH_REPLAY_CHECK_LIVE=1      compare the replayed rows with the live ones (slow: the live path applies event by event)
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createKnex } from '../src/infrastructure/database/knex';
import { createLogger } from '../src/infrastructure/logging/logger';
import { PostgresEventStore } from '../src/infrastructure/eventstore/postgres-event-store';
import { decodeRecordedEvent } from '../src/infrastructure/eventstore/event-decoding';
import type { GlobalPosition } from '../src/infrastructure/eventstore/event-store';
import { allPostgresProjections } from '../src/runtime/app-container';
import { startBenchApp, type BenchApp } from './lib/bench-app';
import { formatBenchTable, type BenchRow } from './lib/bench-table';
import { postJson, sessionPoints } from './lib/bench-telemetry';
import { rawReadPass } from './lib/raw-read-pass';
import { replayRows, replayTiming, type ReplayTiming } from './lib/replay-timing';
import { appendReplayHistory } from '../test/fixtures/events/replay-history';
import { runBench } from './lib/run-bench';

const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 30_000);
const POINTS = Number(process.env.BENCH_REPLAY_POINTS ?? 100_000);
const RUNS = Math.max(1, Number(process.env.BENCH_REPLAY_RUNS ?? 1));
const CHECK_LIVE = process.env.BENCH_REPLAY_CHECK_LIVE === '1';
const NODE_ARGS = (process.env.BENCH_REPLAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const UPLOAD_BATCH = 2_000;
const POINTS_PER_SESSION = 50_000;
const CLI = resolve(__dirname, '..', 'dist', 'src', 'cli.js');
const log = (message: string) => console.error(`[bench replay] ${message}`);
const round = (value: number, digits = 0) => Number(value.toFixed(digits));

async function uploadTelemetry(app: BenchApp, total: number): Promise<void> {
  const user = await postJson(app.url, '/auth/register', { body: JSON.stringify({ username: 'replay_bench', email: 'replay@bench.io', password: 'BenchPass123' }) });
  const token = String(user.access_token);
  for (let done = 0, seed = 1; done < total; seed++) {
    const count = Math.min(POINTS_PER_SESSION, total - done);
    const points = sessionPoints(seed, count, 50);
    const session = await postJson(app.url, '/telemetry/sessions', { token, body: JSON.stringify({ session_name: 'replay', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 }) });
    for (let start = 0; start < points.length; start += UPLOAD_BATCH) {
      await postJson(app.url, `/telemetry/sessions/${String(session.id)}/data`, { token, body: JSON.stringify({ data_points: points.slice(start, start + UPLOAD_BATCH), batch_id: `replay-${seed}-${start}` }) });
    }
    done += count;
  }
}

/** Streams some projection has not applied up to their current revision (0: the live path caught up). */
async function behind(client: pg.Client): Promise<number> {
  let total = 0;
  for (const projection of allPostgresProjections) {
    const result = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM eventstore.streams s
       WHERE split_part(s.stream_id, '-', 1) = ANY($1::text[])
         AND NOT EXISTS (SELECT 1 FROM public.projection_revisions r WHERE r.projection = $2 AND r.stream_id = s.stream_id AND r.revision >= s.current_revision)`,
      [projection.categories, projection.name],
    );
    total += Number(result.rows[0]!.n);
  }
  return total;
}

/** A digest of every projection's tables and revisions: equal digests, equal rows. */
async function readModelDigest(client: pg.Client): Promise<Record<string, string>> {
  const digest: Record<string, string> = {};
  for (const projection of allPostgresProjections) {
    for (const table of projection.tables) {
      const result = await client.query<{ rows: string; md5: string | null }>(`SELECT count(*)::text AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS md5 FROM public."${table}" t`);
      digest[table] = `${result.rows[0]!.rows} rows ${result.rows[0]!.md5 ?? '-'}`;
    }
    const revisions = await client.query<{ rows: string; md5: string | null }>(
      `SELECT count(*)::text AS rows, md5(string_agg(stream_id || ':' || revision, ',' ORDER BY stream_id)) AS md5 FROM public.projection_revisions WHERE projection = $1`,
      [projection.name],
    );
    digest[`projection_revisions/${projection.name}`] = `${revisions.rows[0]!.rows} rows ${revisions.rows[0]!.md5 ?? '-'}`;
  }
  return digest;
}

/**
 * One pass that reads every event through the store (`readAll`, pages of 500) and decodes it with
 * the domain's schemas, as a replay must (an event that does not decode is quarantined): what any
 * replay that checks each event costs before it writes a row. Printed beside the replay rows.
 */
async function readAndDecodePass(store: PostgresEventStore): Promise<{ events: number; perSecond: number }> {
  const startedAt = performance.now();
  let events = 0;
  let after: GlobalPosition | undefined;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 500 });
    if (page.length === 0) break;
    for (const event of page) decodeRecordedEvent(event);
    events += page.length;
    after = page[page.length - 1]!.position;
  }
  return { events, perSecond: events / ((performance.now() - startedAt) / 1000) };
}

/** `arena replay all`: the command's wall time (process start to exit), and its own report of the replay and the start-up before it. */
async function arenaReplayAll(app: BenchApp): Promise<ReplayTiming & { wallSeconds: number }> {
  const startedAt = performance.now();
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [...NODE_ARGS, CLI, 'replay', 'all'], { env: { ...process.env, ...app.env }, maxBuffer: 64 * 1024 * 1024 });
  const wallSeconds = (performance.now() - startedAt) / 1000;
  log(`arena replay all: ${stderr.trim().split('\n').slice(-2).join('\n')}\n${stdout.trim()}`);
  return { ...replayTiming(stderr), wallSeconds };
}

async function main(): Promise<void> {
  const app = await startBenchApp({});
  const db = createKnex(app.databaseUrl);
  const store = new PostgresEventStore(db, createLogger({ level: 'warn' }));
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  const rows: BenchRow[] = [];
  try {
    log(`uploading ${POINTS.toLocaleString('en')} telemetry points through the API`);
    await uploadTelemetry(app, POINTS);
    const caughtUp = async (minutes: number) => {
      const deadline = Date.now() + minutes * 60_000;
      for (let left = await behind(client); left > 0; left = await behind(client)) {
        if (Date.now() > deadline) throw new Error(`the live projections are still ${left} stream(s) behind after ${minutes} minutes`);
        await new Promise((done) => setTimeout(done, 500));
      }
    };
    // Without CHECK_LIVE the app stops before the rest is appended: the live projections, applying
    // event by event, would take longer than the replay being measured.
    if (!CHECK_LIVE) {
      await caughtUp(30);
      await app.stopApp();
    }
    log(`appending ${EVENTS.toLocaleString('en')} events of every projection`);
    await appendReplayHistory(store, EVENTS, { onProgress: (n) => log(`  ${n.toLocaleString('en')} appended`) });
    const stored = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM eventstore.events');
    log(`${stored.rows[0]!.n} events in the store`);
    let live: Record<string, string> | undefined;
    if (CHECK_LIVE) {
      log('waiting for the live projections');
      await caughtUp(60);
      live = await readModelDigest(client);
      await app.stopApp();
    }

    const runs: (ReplayTiming & { wallSeconds: number })[] = [];
    const readPasses: number[] = [];
    let events = 0;
    for (let run = 0; run < RUNS; run++) {
      const before = await rawReadPass(app.databaseUrl);
      runs.push(await arenaReplayAll(app));
      const after = await rawReadPass(app.databaseUrl);
      events = before.events;
      readPasses.push((before.perSecond + after.perSecond) / 2);
      const { replaySeconds, startupSeconds, wallSeconds } = runs.at(-1)!;
      log(`run ${run + 1}: replay all ${round(replaySeconds, 2)} s (start-up ${round(startupSeconds, 2)} s, command ${round(wallSeconds, 2)} s); raw read pass ${round(before.perSecond)}/${round(after.perSecond)} events/s`);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const readPerSecond = median(readPasses);
    const decoded = await readAndDecodePass(store);
    const readAfterDecode = await rawReadPass(app.databaseUrl);
    log(`read + decode pass ${round(decoded.perSecond)} events/s; raw read pass after it ${round(readAfterDecode.perSecond)} events/s`);
    rows.push(...replayRows(events, readPerSecond, { replaySeconds: median(runs.map((r) => r.replaySeconds)), startupSeconds: median(runs.map((r) => r.startupSeconds)), wallSeconds: median(runs.map((r) => r.wallSeconds)), ...(runs.every((r) => r.cpuSeconds !== undefined) ? { cpuSeconds: median(runs.map((r) => r.cpuSeconds!)) } : {}) }).map((row) => ({ ...row, bus: '-' })));
    rows.push({
      measure: 'read + decode pass (readAll, domain schemas; no row written) / raw read pass',
      value: round(decoded.perSecond),
      unit: 'events/s',
      reference: `${round(readAfterDecode.perSecond)} events/s`,
      ratio: decoded.perSecond / readAfterDecode.perSecond,
      target: '-',
      met: null,
      bus: '-',
    });
    console.log(`\n${formatBenchTable(rows)}\n`);
    console.log(`replay all: ${RUNS} run(s), ${runs.map((r) => `${round(r.replaySeconds, 2)} s (command ${round(r.wallSeconds, 2)} s)`).join(', ')}`);
    if (live) {
      const replayed = await readModelDigest(client);
      const differing = Object.keys(live).filter((table) => live[table] !== replayed[table]);
      for (const table of differing) console.log(`  ${table}: live ${live[table]}, replayed ${replayed[table]}`);
      if (differing.length > 0) throw new Error(`replay != live for ${differing.join(', ')}`);
      console.log(`replay == live: the same rows in all ${Object.keys(live).length} tables and revision sets`);
    }
  } finally {
    await client.end().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    await app.close();
  }
}

runBench(main);
