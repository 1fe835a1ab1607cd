import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createSession, recordTelemetryBatch } from '../../../src/commands/racing/telemetry-session-commands';
import { TelemetrySessionRepository } from '../../../src/commands/racing/telemetry-session-repository';
import { RecordingEventStore } from '../../../src/commands/recording-event-store';
import type { Analytics } from '../../../src/infrastructure/analytics/analytics';
import type { RecordedEvent } from '../../../src/infrastructure/eventstore/event-store';
import { applyEventsToClickHouse, applyToClickHouse, migrateClickHouseProjection } from '../../../src/projections/clickhouse/clickhouse-projection-runner';
import { replayClickHouseProjection } from '../../../src/projections/clickhouse/clickhouse-replay';
import { telemetryAnalyticsProjection } from '../../../src/projections/clickhouse/racing/telemetry-analytics-projection';
import { countSessionPoints, userLaps } from '../../../src/projections/clickhouse/racing/telemetry-analytics-queries';
import type { PostgresProjection } from '../../../src/projections/postgres/postgres-projection';
import { applyEvents } from '../../../src/projections/postgres/projection-runner';
import { readableHistory } from '../../support/readable-history';
import { rebuildProjection } from '../../../src/projections/postgres/projection-rebuild';
import { racingLeaderboardProjection } from '../../../src/projections/postgres/racing/racing-leaderboard-projection';
import { telemetrySessionsProjection } from '../../../src/projections/postgres/racing/telemetry-sessions-projection';
import { generateSession } from '../../fixtures/telemetry/trace-generator';
import { startTestSystem, type TestSystem } from '../../support/test-system';

/**
 * The racing projections on real engines (PostgreSQL, chDB), fed by hand with the events the
 * commands appended: rows from events, nothing new on redelivery, the same rows after replay.
 */

let system: TestSystem;
let events: RecordedEvent[];
let analytics: Analytics;
const drivers = { fast: randomUUID(), slow: randomUUID() };
const sessionIds: string[] = [];

beforeAll(async () => {
  system = await startTestSystem({ roles: { relay: false, projections: false, api: false } });
  const sessions = new TelemetrySessionRepository(system.services.store);
  const ctx = { store: system.services.store, now: () => new Date('2026-01-01T00:00:00Z'), newId: randomUUID, metadata: {} };
  for (const [ownerId, skill, seed] of [[drivers.fast, 0.95, 11], [drivers.slow, 0.6, 12], [drivers.fast, 0.95, 13]] as const) {
    const generated = generateSession({ seed, laps: 3, hz: 10, driverSkill: skill, start: 'rolling' });
    const { sessionId } = await createSession(ctx, sessions, ownerId, {
      sessionName: `seed ${seed}`,
      trackName: 'Ring',
      carModel: 'GT3',
      weatherConditions: null,
      trackTemperatureC: null,
      airTemperatureC: null,
      trackLengthM: generated.trackLengthM,
    });
    sessionIds.push(sessionId);
    for (let start = 0; start < generated.points.length; start += 700) {
      await recordTelemetryBatch(ctx, sessions, { sessionId, userId: ownerId, batchId: `b${start}`, dataPoints: generated.points.slice(start, start + 700) });
    }
  }
  let appended = 0;
  for (const sessionId of sessionIds) appended += (await system.services.store.readStream(`session-${sessionId}`)).length;
  events = (await readableHistory(system.services.store, system.services.db)).filter((event) => event.streamId.startsWith('session-'));
  expect(events).toHaveLength(appended);
  analytics = system.services.analytics;
  await migrateClickHouseProjection(analytics, telemetryAnalyticsProjection);
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

async function applyAll(projection: PostgresProjection): Promise<number> {
  let applied = 0;
  for (const event of events) {
    applied += await system.services.db.transaction((trx) => applyEvents(projection, [event], trx));
  }
  return applied;
}

describe('PostgreSQL racing projections', () => {
  const sessionsSnapshot = () => system.services.db('telemetry_sessions').select('*').orderBy('id');
  const leaderboardSnapshot = async () => ({
    board: await system.services.db('racing_leaderboard').select('*').orderBy(['category', 'user_id']),
    laps: await system.services.db('racing_lap_times').select('*').orderBy(['session_id', 'lap_number']),
  });

  it('builds session rows from the events, ignores redelivery, and rebuilds to the same rows', async () => {
    expect(await applyAll(telemetrySessionsProjection)).toBe(events.length);
    const rows = await sessionsSnapshot();
    expect(rows).toHaveLength(3);
    const lapEvents = events.filter((e) => e.type === 'LapCompleted');
    for (const row of rows) {
      const laps = lapEvents.filter((e) => e.data.sessionId === row.id);
      expect(row.total_laps).toBe(laps.length);
      const valid = laps.filter((e) => e.data.valid === true).map((e) => Number(e.data.lapTimeMs));
      expect(row.valid_laps).toBe(valid.length);
      expect(row.best_lap_time_ms).toBe(Math.min(...valid));
    }
    expect(await applyAll(telemetrySessionsProjection)).toBe(0);
    expect(await sessionsSnapshot()).toEqual(rows);
    await rebuildProjection(system.services.db, system.services.store, telemetrySessionsProjection, { logger: system.services.logger });
    expect(await sessionsSnapshot()).toEqual(rows);
  });

  it('keeps the best valid lap per user and category with its consistency, and rebuilds it identically', async () => {
    await applyAll(racingLeaderboardProjection);
    const live = await leaderboardSnapshot();
    expect(live.board.map((row) => row.category).sort()).toEqual(['overall', 'overall', 'sector_1', 'sector_1', 'sector_2', 'sector_2', 'sector_3', 'sector_3']);
    const validLaps = events.filter((e) => e.type === 'LapCompleted' && e.data.valid === true && e.data.ownerId === drivers.fast);
    const fastOverall = live.board.find((row) => row.user_id === drivers.fast && row.category === 'overall')!;
    expect(fastOverall.time_ms).toBe(Math.min(...validLaps.map((e) => Number(e.data.lapTimeMs))));
    expect(fastOverall.valid_laps).toBe(validLaps.length);
    expect(fastOverall.consistency_score).toEqual(expect.any(Number));
    expect(live.laps).toHaveLength(events.filter((e) => e.type === 'LapCompleted').length);

    expect(await applyAll(racingLeaderboardProjection)).toBe(0);
    expect(await leaderboardSnapshot()).toEqual(live);
    await rebuildProjection(system.services.db, system.services.store, racingLeaderboardProjection, { logger: system.services.logger });
    expect(await leaderboardSnapshot()).toEqual(live);
  });
});

describe('ClickHouse racing projection (chDB)', () => {
  const Totals = z.object({ points: z.coerce.number(), laps: z.coerce.number(), speed_sum: z.number(), lap_sum: z.coerce.number() });
  const totals = async () =>
    (
      await analytics.query(
        `SELECT (SELECT count() FROM {db}.telemetry_points) AS points, (SELECT sum(speed_kmh) FROM {db}.telemetry_points) AS speed_sum,
                (SELECT count() FROM {db}.laps) AS laps, (SELECT sum(lap_time_ms) FROM {db}.laps) AS lap_sum`,
        {},
        Totals,
      )
    )[0]!;

  it('writes one row per point and per lap; a redelivered event writes nothing', async () => {
    let written = 0;
    for (const event of events) written += await applyToClickHouse(analytics, telemetryAnalyticsProjection, event);
    const pointCount = events.filter((e) => e.type === 'TelemetryBatchRecorded').reduce((sum, e) => sum + Number(e.data.pointCount), 0);
    const lapCount = events.filter((e) => e.type === 'LapCompleted').length;
    expect(written).toBe(pointCount + lapCount);
    const first = await totals();
    expect(first).toMatchObject({ points: pointCount, laps: lapCount });

    // Redelivery: every event again, straight away (the bus is at-least-once).
    for (const event of events) await applyToClickHouse(analytics, telemetryAnalyticsProjection, event);
    expect(await totals()).toEqual(first);
    expect(await countSessionPoints(analytics, sessionIds[0]!)).toBe(
      events.filter((e) => e.type === 'TelemetryBatchRecorded' && e.data.sessionId === sessionIds[0]).reduce((sum, e) => sum + Number(e.data.pointCount), 0),
    );
  });

  it('inserts a batch of events as one block per table; a batch redelivered in part, whole, or cut otherwise writes nothing twice', async () => {
    const before = await totals();
    const table = (name: string) => `batch_${name}`;
    await analytics.ensureSchema(Object.entries(telemetryAnalyticsProjection.tables).flatMap(([name, create]) => [create(table(name))].flat()));
    const batchTotals = async () =>
      (
        await analytics.query(
          `SELECT (SELECT count() FROM {db}.batch_telemetry_points) AS points, (SELECT sum(speed_kmh) FROM {db}.batch_telemetry_points) AS speed_sum,
                  (SELECT count() FROM {db}.batch_laps) AS laps, (SELECT sum(lap_time_ms) FROM {db}.batch_laps) AS lap_sum`,
          {},
          Totals,
        )
      )[0]!;
    const half = Math.floor(events.length / 2);
    const first = await applyEventsToClickHouse(analytics, telemetryAnalyticsProjection, events.slice(0, half), { tableName: table });
    expect(first.eventsApplied).toBe(events.slice(0, half).filter((e) => telemetryAnalyticsProjection.handles.includes(e.type)).length);
    // The whole history after a crash: the first half again, in one batch with the rest.
    const all = await applyEventsToClickHouse(analytics, telemetryAnalyticsProjection, events, { tableName: table });
    expect(first.rowsWritten + all.rowsWritten).toBe(before.points + before.laps);
    expect(await batchTotals()).toEqual(before);
    // Cut into other batches, from the middle on.
    for (let start = half - 3; start < events.length; start += 5) {
      expect((await applyEventsToClickHouse(analytics, telemetryAnalyticsProjection, events.slice(start, start + 5), { tableName: table })).rowsWritten).toBe(0);
    }
    expect(await batchTotals()).toEqual(before);

    // Part of one event's rows stored already (a block cut short): only the rest is written.
    const batch = events.find((e) => e.type === 'TelemetryBatchRecorded')!;
    const { columns, rows } = telemetryAnalyticsProjection.rows(batch)[0]!;
    await analytics.command('TRUNCATE TABLE {db}.batch_telemetry_points');
    await analytics.insertCompact(table('telemetry_points'), { columns, rows: rows.slice(0, 100) });
    const rest = await applyEventsToClickHouse(analytics, telemetryAnalyticsProjection, [batch], { tableName: table });
    expect(rest.rowsWritten).toBe(rows.length - 100);
    const Count = z.object({ n: z.coerce.number(), distinct_ts: z.coerce.number() });
    expect(await analytics.query('SELECT count() AS n, uniqExact(ts) AS distinct_ts FROM {db}.batch_telemetry_points', {}, Count)).toEqual([{ n: rows.length, distinct_ts: rows.length }]);
    for (const name of Object.keys(telemetryAnalyticsProjection.tables)) await analytics.command(`DROP TABLE {db}.${table(name)}`);
  });

  it('two writers applying overlapping batches at once (a replay catching up beside the live consumer) write each row once', async () => {
    const points = events.filter((e) => e.type === 'TelemetryBatchRecorded').reduce((sum, e) => sum + Number(e.data.pointCount), 0);
    const laps = events.filter((e) => e.type === 'LapCompleted').length;
    const table = (name: string) => `race_${name}`;
    await analytics.ensureSchema(Object.entries(telemetryAnalyticsProjection.tables).flatMap(([name, create]) => [create(table(name))].flat()));
    const Counts = z.object({ points: z.coerce.number(), laps: z.coerce.number() });
    const raceCounts = async () =>
      (await analytics.query('SELECT (SELECT count() FROM {db}.race_telemetry_points) AS points, (SELECT count() FROM {db}.race_laps) AS laps', {}, Counts))[0]!;
    // The live consumer's batches and the catch-up's pages cut the same history differently.
    const live = [];
    for (let start = 0; start < events.length; start += 4) live.push(events.slice(start, start + 4));
    const catchUp = [];
    for (let start = 0; start < events.length; start += 7) catchUp.push(events.slice(start, start + 7));
    const apply = async (batches: (typeof events)[]) => {
      for (const batch of batches) await applyEventsToClickHouse(analytics, telemetryAnalyticsProjection, batch, { tableName: table });
    };
    await Promise.all([apply(live), apply(catchUp)]);
    // Raw counts, without FINAL: a duplicate collapsed only at read time is still a duplicate stored.
    expect(await raceCounts()).toEqual({ points, laps });
    for (const name of Object.keys(telemetryAnalyticsProjection.tables)) await analytics.command(`DROP TABLE {db}.${table(name)}`);
  });

  it('reads laps back for the analytics endpoints, chronologically', async () => {
    const laps = await userLaps(analytics, { userId: drivers.fast });
    expect(new Set(laps.map((lap) => lap.sessionId))).toEqual(new Set([sessionIds[0], sessionIds[2]]));
    expect(laps.map((lap) => lap.endedAtMs)).toEqual([...laps.map((lap) => lap.endedAtMs)].sort((a, b) => a - b));
    const expected = events.filter((e) => e.type === 'LapCompleted' && e.data.sessionId === sessionIds[0]);
    const ofFirst = laps.filter((lap) => lap.sessionId === sessionIds[0]);
    expect(ofFirst.map((lap) => [lap.lapNumber, lap.lapTimeMs, lap.valid, lap.sectorTimesMs])).toEqual(
      expected.map((e) => [e.data.lapNumber, e.data.lapTimeMs, e.data.valid, e.data.sectorTimesMs]),
    );
    expect(await userLaps(analytics, { userId: drivers.fast, trackName: 'Elsewhere' })).toEqual([]);
  });

  it('replays from history into fresh tables and swaps them in, with the same rows', async () => {
    const before = await totals();
    const result = await replayClickHouseProjection(analytics, system.services.store, telemetryAnalyticsProjection, { logger: system.services.logger, pageSize: 7 });
    expect(result.rowsWritten).toBe(before.points + before.laps);
    expect(await totals()).toEqual(before);
    const Tables = z.object({ name: z.string() });
    const tables = await analytics.query("SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", { db: analytics.database }, Tables);
    expect(tables.map((t) => t.name)).toEqual(['laps', 'telemetry_points']);
  });

  it('collapses a duplicate from beyond the deduplication window at read time (ReplacingMergeTree + FINAL)', async () => {
    const batch = events.find((e) => e.type === 'TelemetryBatchRecorded' && e.data.sessionId === sessionIds[1])!;
    const expected = await countSessionPoints(analytics, sessionIds[1]!);
    // Another token: what a redelivery long after the window would look like.
    const { columns, rows } = telemetryAnalyticsProjection.rows(batch)[0]!;
    await analytics.insertCompact('telemetry_points', { columns, rows }, { deduplicationToken: 'long-forgotten' });
    const Count = z.object({ n: z.coerce.number() });
    const [raw] = await analytics.query('SELECT count() AS n FROM {db}.telemetry_points WHERE session_id = {s:UUID}', { s: sessionIds[1] }, Count);
    expect(raw!.n).toBe(expected + rows.length);
    expect(await countSessionPoints(analytics, sessionIds[1]!)).toBe(expected);
  });

  it('runs every example query of docs/analytics.md, whose schema lists every column', async () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'analytics.md'), 'utf8');
    const blocks = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((match) => match[1]!);
    // Queries only: the schema and the server's access-control statements (CREATE USER, GRANT) are not examples to run.
    const examples = blocks.filter((sql) => !sql.trimStart().startsWith('CREATE'));
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const sql of examples) {
      const rows = await analytics.query(sql.replace(/\barena\./g, '{db}.').replace(/'arena'/g, `'${analytics.database}'`), {}, z.record(z.string(), z.unknown()));
      expect(Array.isArray(rows)).toBe(true);
    }
    const schema = blocks.find((sql) => sql.trimStart().startsWith('CREATE TABLE'))!;
    const Column = z.object({ table: z.string(), name: z.string() });
    const columns = await analytics.query(
      "SELECT table, name FROM system.columns WHERE database = {db:String} AND table IN ('telemetry_points', 'laps')",
      { db: analytics.database },
      Column,
    );
    expect(columns.length).toBeGreaterThan(30);
    for (const column of columns) expect(schema).toMatch(new RegExp(`\\b${column.name}\\b`));
  });
});

// Last: it adds a session to the shared history the replays above compare with.
describe("a telemetry upload's own write", () => {
  it("appends through the request's store, so read-your-writes has the batch's events without reading them back", async () => {
    const recording = new RecordingEventStore(system.services.store);
    const sessions = new TelemetrySessionRepository(system.services.store);
    const ctx = { store: recording, now: () => new Date('2026-01-01T00:00:00Z'), newId: randomUUID, metadata: {} };
    const ownerId = randomUUID();
    const { sessionId } = await createSession(ctx, sessions, ownerId, { sessionName: 'own write', trackName: 'Generated Ring', carModel: 'GT3', weatherConditions: null, trackTemperatureC: null, airTemperatureC: null, trackLengthM: 4568.45 });
    const points = generateSession({ seed: 21, laps: 1, hz: 10, start: 'rolling' }).points.slice(0, 300);
    const { outcome } = await recordTelemetryBatch(ctx, sessions, { sessionId, userId: ownerId, batchId: 'own', dataPoints: points });
    const streamId = `session-${sessionId}`;
    const own = recording.appendedFrom(streamId, 1n);
    expect(own).toBeDefined();
    expect(own![own!.length - 1]!.revision).toBe(outcome.revision);
    expect(own).toEqual(await system.services.store.readStream(streamId, { fromRevision: 1n }));
  });
});
