/**
 * Telemetry spine ratios (issue 9, i9-telemetry), `ts-node --transpile-only bench/telemetry-spine.ts`.
 * One run, one embedded system (PostgreSQL + chDB in a temp dir, as `arena start`), every ratio
 * against the same engines:
 *
 *   1. ingest: HTTP upload -> rows queryable in ClickHouse, vs a raw @clickhouse/client insert of
 *      the same rows in 50k-row blocks into chDB (same schema);
 *   2. stored size of a 2,000-point batch event (packed, format 2) vs its JSON columns (format 1);
 *   3. `replay all` (every PostgreSQL projection from one read) events/s vs one raw read pass;
 *   4. ClickHouse replay rows/s vs the raw insert;
 *   5. GET /analytics/performance/overview at 16 concurrent clients vs the same SQL on chDB
 *      directly (a raw client on the same data directory), also at 16 concurrent.
 *
 * Environment: BENCH_POINTS (default 200000), BENCH_BATCH (2000), BENCH_SESSIONS (4), BENCH_HZ (50),
 * BENCH_OVERVIEW_REQUESTS (400), BENCH_REPLAY_EVENTS (small SessionCreated events added before the
 * replay measures, 20000: replay rates mean little on a store of 50 large batches).
 */
import { join } from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { z } from 'zod';
import { validateTelemetryBatch } from '../src/domain/racing/telemetry-point';
import { toStoredTelemetryBatch } from '../src/domain/racing/telemetry-session-events';
import type { GlobalPosition } from '../src/infrastructure/eventstore/event-store';
import { createLogger } from '../src/infrastructure/logging/logger';
import { replayClickHouseProjection } from '../src/projections/clickhouse/clickhouse-replay';
import { pointRows, telemetryAnalyticsProjection, TELEMETRY_POINT_COLUMNS, TELEMETRY_POINTS_TABLE, LAPS_TABLE } from '../src/projections/clickhouse/racing/telemetry-analytics-projection';
import { allPostgresProjections } from '../src/runtime/app-container';
import { rebuildProjections } from '../src/projections/postgres/projection-rebuild';
import { startBenchApp } from './lib/bench-app';
import { postJson, sessionPoints } from './lib/bench-telemetry';
import { runBench } from './lib/run-bench';

const POINTS = Number(process.env.BENCH_POINTS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 2_000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 4);
const HZ = Number(process.env.BENCH_HZ ?? 50);
const OVERVIEW_REQUESTS = Number(process.env.BENCH_OVERVIEW_REQUESTS ?? 400);
const CONCURRENCY = 16;
const RAW_CHUNK = 50_000;
const REPLAY_EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 20_000);

function rawClient(path: string): ClickHouseClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createChdbConnection } = require('chdb/connection') as typeof import('chdb/connection');
  return createClient({ connection: createChdbConnection({ path }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']> });
}

/** `total` calls of `work`, `concurrency` at a time; returns calls per second. */
async function closedLoop(total: number, concurrency: number, work: () => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        await work();
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

const perSecond = (count: number, ms: number) => Math.round(count / (ms / 1000));

async function main(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const app = await startBenchApp({});
  const results: Array<{ measure: string; ours: number; baseline: number; ratio: number }> = [];
  const ratio = (measure: string, ours: number, baseline: number) => results.push({ measure, ours, baseline, ratio: Math.round((ours / baseline) * 1000) / 1000 });
  try {
    const { config, services } = app;

    const perSession = Math.ceil(POINTS / SESSIONS);
    const sessions = Array.from({ length: SESSIONS }, (_, i) => sessionPoints(100 + i, Math.min(perSession, POINTS - i * perSession), HZ));
    const total = sessions.reduce((sum, points) => sum + points.length, 0);
    const user = await postJson(app.url, '/auth/register', { body: JSON.stringify({ username: 'bench_driver', email: 'bench@x.io', password: 'BenchPass123' }) });
    const token = String(user.access_token);
    const userId = String((user.user as { id: string }).id);
    const uploads = await Promise.all(
      sessions.map(async (points, i) => {
        const created = await postJson(app.url, '/telemetry/sessions', {
          token,
          body: JSON.stringify({ session_name: `bench ${i}`, track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 }),
        });
        const bodies: string[] = [];
        for (let start = 0; start < points.length; start += BATCH) bodies.push(JSON.stringify({ data_points: points.slice(start, start + BATCH), batch_id: `b-${i}-${start}` }));
        return { sessionId: String(created.id), bodies };
      }),
    );
    const Count = z.object({ n: z.coerce.number() });
    const countPoints = async () => (await services.analytics.query(`SELECT count() AS n FROM {db}.${TELEMETRY_POINTS_TABLE}`, {}, Count))[0]?.n ?? 0;

    // 1. ingest
    const startedAt = performance.now();
    await Promise.all(uploads.map(async ({ sessionId, bodies }) => { for (const body of bodies) await postJson(app.url, `/telemetry/sessions/${sessionId}/data`, { token, body }); }));
    const acceptedMs = performance.now() - startedAt;
    while ((await countPoints()) < total) await new Promise((resolve) => setTimeout(resolve, 20));
    const ingestMs = performance.now() - startedAt;

    const rows: unknown[][] = [];
    let jsonBytes = 0;
    let packedBytes = 0;
    for (const [i, points] of sessions.entries()) {
      const validated = validateTelemetryBatch(points, { maxPoints: Number.MAX_SAFE_INTEGER });
      if (!validated.ok) throw validated.error;
      rows.push(...pointRows({ sessionId: uploads[i]!.sessionId, ownerId: userId, trackName: 'Generated Ring', carModel: 'GT3' }, validated.batch).rows);
      const first = validateTelemetryBatch(points.slice(0, BATCH), { maxPoints: BATCH });
      if (!first.ok) throw first.error;
      const data = { sessionId: 's', ownerId: 'u', trackName: 't', carModel: 'c', batchId: 'b', fingerprint: 'f', pointCount: BATCH, firstTimestampMs: 0, lastTimestampMs: 0, recordedAt: 'x', columns: first.batch };
      jsonBytes += JSON.stringify(data).length;
      packedBytes += JSON.stringify(toStoredTelemetryBatch(data)).length;
    }
    const raw = rawClient(join(config.dataDir, 'chdb'));
    const db = config.CLICKHOUSE_DATABASE;
    await raw.command({ query: `DROP TABLE IF EXISTS ${db}.bench_raw` });
    for (const statement of [telemetryAnalyticsProjection.tables[TELEMETRY_POINTS_TABLE]!('bench_raw')].flat()) await raw.command({ query: statement.replace('{db}', db) });
    const rawStarted = performance.now();
    for (let start = 0; start < rows.length; start += RAW_CHUNK) {
      await raw.insert({ table: `${db}.bench_raw`, values: rows.slice(start, start + RAW_CHUNK), columns: [...TELEMETRY_POINT_COLUMNS] as [string, ...string[]], format: 'JSONCompactEachRow' });
    }
    const rawMs = performance.now() - rawStarted;
    const rawRowsPerSecond = perSecond(rows.length, rawMs);
    ratio('ingest points/s (HTTP -> 201 accepted) / raw insert 50k blocks', perSecond(total, acceptedMs), rawRowsPerSecond);
    ratio('ingest points/s (HTTP -> queryable) / raw insert 50k blocks', perSecond(total, ingestMs), rawRowsPerSecond);
    console.log(`2,000-point batch event data: ${Math.round(packedBytes / SESSIONS)} bytes stored (format 2) vs ${Math.round(jsonBytes / SESSIONS)} bytes of JSON columns (format 1)`);

    // 3. replay all (PostgreSQL) vs one raw read pass, on a store with many small events too
    for (let next = 0; next < REPLAY_EVENTS; ) {
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, REPLAY_EVENTS - next) }, () => {
          const sessionId = crypto.randomUUID();
          next += 1;
          const data = { sessionId, ownerId: userId, trackName: 'Generated Ring', carModel: 'GT3', sessionName: `s${next}`, weatherConditions: null, trackTemperatureC: null, airTemperatureC: null, trackLengthM: null, createdAt: new Date().toISOString() };
          return services.store.append(`session-${sessionId}`, [{ type: 'SessionCreated', data }], { expectedRevision: 'no_stream' });
        }),
      );
    }
    const eventsInStore = Number((await services.db.raw('SELECT count(*)::bigint AS n FROM eventstore.events')).rows[0].n);
    let readStarted = performance.now();
    let after: GlobalPosition | undefined;
    let read = 0;
    for (;;) {
      const page = await services.store.readAll({ after, maxCount: 500 });
      if (page.length === 0) break;
      read += page.length;
      after = page[page.length - 1]!.position;
    }
    const readPerSecond = perSecond(read, performance.now() - readStarted);
    readStarted = performance.now();
    await rebuildProjections(services.db, services.store, allPostgresProjections, { logger });
    ratio(`replay all events/s (${allPostgresProjections.length} projections, one read) / raw read pass`, perSecond(eventsInStore, performance.now() - readStarted), readPerSecond);
    // The shape before issue 9: each projection rebuilt on its own, each reading the whole history.
    readStarted = performance.now();
    for (const projection of allPostgresProjections) await rebuildProjections(services.db, services.store, [projection], { logger });
    ratio('  same, one read per projection (the old shape) / raw read pass', perSecond(eventsInStore, performance.now() - readStarted), readPerSecond);

    // 4. ClickHouse replay
    const chStarted = performance.now();
    const replayed = await replayClickHouseProjection(services.analytics, services.store, telemetryAnalyticsProjection, { logger });
    ratio('ClickHouse replay rows/s / raw insert', perSecond(replayed.rowsWritten, performance.now() - chStarted), rawRowsPerSecond);

    // 5. overview at c=16 vs the same SQL directly
    const overview = async () => {
      const response = await fetch(`${app.url}/api/v1/analytics/performance/overview?period=all_time`, { headers: { authorization: `Bearer ${token}` } });
      if (!response.ok) throw new Error(`overview ${response.status}`);
      await response.arrayBuffer();
    };
    await overview();
    const apiRate = await closedLoop(OVERVIEW_REQUESTS, CONCURRENCY, overview);
    const laps = `SELECT toString(session_id) AS session_text, track_name, car_model, lap_number, lap_time_ms, sector_times_ms, valid, is_verified,
      toUnixTimestamp64Milli(started_at) AS started_at_ms, toUnixTimestamp64Milli(ended_at) AS ended_at_ms, full_throttle_fraction, estimated
      FROM ${db}.${LAPS_TABLE} FINAL WHERE user_id = {userId:UUID} ORDER BY ended_at, session_id, lap_number`;
    const direct = rawClient(join(config.dataDir, 'chdb'));
    const directRate = await closedLoop(OVERVIEW_REQUESTS, CONCURRENCY, async () => {
      await (await direct.query({ query: laps, query_params: { userId }, format: 'JSONEachRow' })).json();
    });
    ratio('analytics overview req/s at c=16 / same SQL on chDB directly', Math.round(apiRate), Math.round(directRate));
    await direct.close();
    await raw.close();
    console.log(`${total.toLocaleString('en')} points, ${eventsInStore} events in the store`);
    console.table(results);
  } finally {
    await app.close();
  }
}

runBench(main);
