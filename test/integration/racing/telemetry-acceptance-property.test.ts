import { readTelemetryBatchRecorded } from '../../../src/domain/racing/telemetry-session-events';
import { z } from 'zod';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../../../src/domain/racing/telemetry-point';
import type { JsonObject } from '../../../src/infrastructure/eventstore/event-store';
import { startClickHouseProjections } from '../../../src/runtime/background-roles';
import { replayClickHouseProjection } from '../../../src/projections/clickhouse/clickhouse-replay';
import { telemetryAnalyticsProjection } from '../../../src/projections/clickhouse/racing/telemetry-analytics-projection';
import { PROJECTION_QUARANTINE_TABLE } from '../../../src/projections/projection-quarantine';
import { rebuildProjection } from '../../../src/projections/postgres/projection-rebuild';
import { telemetrySessionsProjection } from '../../../src/projections/postgres/racing/telemetry-sessions-projection';
import type { RunningRole } from '../../../src/runtime/background-roles';
import { createSession, eventually, registerDriver, type Driver } from '../../support/racing';
import { http, startTestSystem, type TestSystem } from '../../support/test-system';

jest.setTimeout(240_000);

/**
 * Issue 8, defect 3: epoch-ms timestamps with a fraction were accepted (201), then the ClickHouse
 * projection could not store them and dead-lettered the batch. Property: every batch the upload
 * accepts appears, point for point, in ClickHouse (chDB) and in the PostgreSQL read model; every
 * batch it refuses leaves nothing behind.
 */

/** mulberry32: a small seeded generator, so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GeneratedBatch {
  seed: number;
  points: Record<string, unknown>[];
  /** The epoch ms each point's timestamp denotes (a number may carry a fraction). */
  instants: number[];
}

function generateBatch(seed: number): GeneratedBatch {
  const next = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const inRange = (min: number, max: number) => pick([min, max, min + (max - min) * next(), min + (max - min) * next()]);
  const integerIn = (min: number, max: number) => pick([min, max, Math.floor(min + (max - min + 1) * next())]);
  const maybe = <T>(value: () => T): T | null | undefined => pick([undefined, null, value(), value()]);
  const timestampStyle = pick(['epoch', 'epoch', 'epoch-fraction', 'iso-z', 'iso-micro', 'iso-offset', 'mixed'] as const);
  const count = 1 + Math.floor(next() * 40);
  const span = (count + 1) * 2000;
  let instant = pick([MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS - span, Date.UTC(2024, 0, 15) + Math.floor(next() * 1e9)]);
  const points: Record<string, unknown>[] = [];
  const instants: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const style = timestampStyle === 'mixed' ? pick(['epoch', 'epoch-fraction', 'iso-z', 'iso-micro', 'iso-offset'] as const) : timestampStyle;
    const whole = Math.floor(instant);
    let timestamp: string | number;
    if (style === 'epoch') timestamp = whole;
    else if (style === 'epoch-fraction') timestamp = whole + pick([0.25, 0.5, 0.001, 0.999]);
    else if (style === 'iso-z') timestamp = new Date(whole).toISOString();
    else if (style === 'iso-micro') timestamp = new Date(whole).toISOString().replace('Z', `${Math.floor(next() * 1000).toString().padStart(3, '0')}Z`);
    else {
      const offsetMinutes = pick([-600, -330, 0, 60, 345]);
      const local = new Date(whole + offsetMinutes * 60_000).toISOString().slice(0, 23);
      const sign = offsetMinutes < 0 ? '-' : '+';
      const abs = Math.abs(offsetMinutes);
      timestamp = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    }
    instants.push(typeof timestamp === 'number' ? timestamp : whole);
    points.push({
      timestamp,
      speed_kmh: inRange(0, 500),
      throttle_input: inRange(0, 1),
      brake_input: inRange(0, 1),
      steering_input: inRange(-1, 1),
      gear: integerIn(-1, 10),
      rpm: inRange(0, 25_000),
      completed_laps: maybe(() => integerIn(0, 100_000)),
      normalized_car_position: maybe(() => inRange(0, 1)),
      current_lap_time_ms: maybe(() => integerIn(0, 86_400_000)),
      current_sector_index: maybe(() => integerIn(0, 31)),
      is_in_pit: maybe(() => next() < 0.5),
      is_in_pit_lane: maybe(() => next() < 0.5),
      is_valid_lap: maybe(() => next() < 0.5),
      world_x: maybe(() => inRange(-1e6, 1e6)),
      world_y: maybe(() => inRange(-1e6, 1e6)),
      world_z: maybe(() => inRange(-1e6, 1e6)),
    });
    instant += 1 + Math.floor(next() * 1500);
  }
  return { seed, points, instants };
}

const Row = z.object({ ts_ms: z.coerce.number(), gear: z.coerce.number() });

let system: TestSystem;
let analyticsRole: RunningRole;
let driver: Driver;

beforeAll(async () => {
  system = await startTestSystem();
  analyticsRole = await startClickHouseProjections(system.services);
  driver = await registerDriver(system.url, 'prop');
});
afterAll(async () => {
  await analyticsRole?.stop();
  await system?.stop();
});

const pointsInClickHouse = (sessionId: string) =>
  system.services.analytics.query(
    'SELECT toUnixTimestamp64Milli(ts) AS ts_ms, gear FROM {db}.telemetry_points FINAL WHERE session_id = {s:UUID} ORDER BY ts',
    { s: sessionId },
    Row,
  );

const pointsInPostgres = async (sessionId: string): Promise<number> => {
  const row = await system.services.db('telemetry_sessions').where({ id: sessionId }).first<{ data_points: string } | undefined>();
  return Number(row?.data_points ?? -1);
};

describe('telemetry upload: accepted means projected', () => {
  it('every accepted generated batch appears in ClickHouse and PostgreSQL; refused ones leave nothing', async () => {
    const accepted: { sessionId: string; batch: GeneratedBatch }[] = [];
    const refused: { sessionId: string; batch: GeneratedBatch; status: number }[] = [];
    for (let seed = 1; seed <= 40; seed += 1) {
      const batch = generateBatch(seed);
      const sessionId = await createSession(system.url, driver, { session_name: `seed ${seed}` });
      const res = await http(system.url, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, { token: driver.token, body: { data_points: batch.points } });
      if (res.status === 201) accepted.push({ sessionId, batch });
      else {
        // A refusal names the field and the point (the contract's error body).
        expect({ seed, status: res.status }).toEqual({ seed, status: expect.any(Number) as number });
        expect([400, 422]).toContain(res.status);
        expect(JSON.stringify(res.body)).toMatch(/data_points\.\d+/);
        refused.push({ sessionId, batch, status: res.status });
      }
    }

    for (const { sessionId, batch } of accepted) {
      const expected = batch.points.map((point, i) => ({ ts_ms: Math.floor(batch.instants[i]!), gear: point.gear as number }));
      const rows = await eventually(`ClickHouse rows of seed ${batch.seed}`, async () => {
        const found = await pointsInClickHouse(sessionId);
        return found.length === expected.length ? found : undefined;
      });
      expect({ seed: batch.seed, rows }).toEqual({ seed: batch.seed, rows: expected });
      expect({ seed: batch.seed, postgres: await pointsInPostgres(sessionId) }).toEqual({ seed: batch.seed, postgres: batch.points.length });
    }
    for (const { sessionId, batch } of refused) {
      expect({ seed: batch.seed, postgres: await pointsInPostgres(sessionId) }).toEqual({ seed: batch.seed, postgres: 0 });
      expect({ seed: batch.seed, clickhouse: (await pointsInClickHouse(sessionId)).length }).toEqual({ seed: batch.seed, clickhouse: 0 });
    }
    // The generator makes both kinds (fractional epoch timestamps are refused with 400).
    expect(accepted.length).toBeGreaterThan(10);
    expect(refused.some((r) => r.batch.points.some((p) => typeof p.timestamp === 'number' && !Number.isInteger(p.timestamp)))).toBe(true);
    const quarantined = await system.services.db(PROJECTION_QUARANTINE_TABLE).select('*');
    expect(quarantined).toEqual([]);
  });

  it('refuses an epoch-ms timestamp with a fraction with 400 naming the field', async () => {
    const sessionId = await createSession(system.url, driver);
    const point = { timestamp: 1705329005000.25, speed_kmh: 100, throttle_input: 1, brake_input: 0, steering_input: 0, gear: 3, rpm: 7000 };
    const res = await http(system.url, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, { token: driver.token, body: { data_points: [point] } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('data_points.0.timestamp');
    expect(JSON.stringify(res.body)).toContain('whole epoch milliseconds');
  });
});

describe('quarantine: an event no projection can apply', () => {
  it('is set aside by the live ClickHouse projection and by a replay, which go on and report it', async () => {
    const sessionId = await createSession(system.url, driver, { session_name: 'legacy' });
    const good = { speed_kmh: 100, throttle_input: 1, brake_input: 0, steering_input: 0, gear: 3, rpm: 7000 };
    const upload = (points: object[]) => http(system.url, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, { token: driver.token, body: { data_points: points } });
    expect((await upload([{ ...good, timestamp: 1705329005000 }])).status).toBe(201);
    // An event as an older version stored it: fractional timestamps, which no projection can apply.
    const stream = `session-${sessionId}`;
    const history = await system.services.store.readStream(stream);
    const recorded = history.filter((event) => event.type === 'TelemetryBatchRecorded').at(-1)!;
    const { batchFormat: _format, packedColumns: _packed, ...recordedData } = recorded.data; // an old event is format 1: JSON columns
    const columns = { ...readTelemetryBatchRecorded(recorded.data).columns, timestampMs: [1705329006000.25] };
    const legacy = await system.services.store.append(
      stream,
      [{ type: 'TelemetryBatchRecorded', data: { ...recordedData, batchId: 'legacy', fingerprint: 'legacy', firstTimestampMs: 1705329006000.25, lastTimestampMs: 1705329006000.25, columns } as JsonObject }],
      { expectedRevision: history.at(-1)!.revision },
    );
    // And one that breaks the event schema itself (recordedAt must be a string): no projection,
    // PostgreSQL or ClickHouse, can apply it.
    const broken = await system.services.store.append(
      stream,
      [{ type: 'TelemetryBatchRecorded', data: { ...recordedData, batchId: 'broken', fingerprint: 'broken', recordedAt: 42, firstTimestampMs: 1705329006500, lastTimestampMs: 1705329006500, columns: { ...columns, timestampMs: [1705329006500] } } as JsonObject }],
      { expectedRevision: history.at(-1)!.revision + 1n },
    );
    // The projections go on: a later batch of the same session arrives.
    expect((await upload([{ ...good, timestamp: 1705329007000 }])).status).toBe(201);
    const rows = await eventually('the batch after the quarantined one', async () => {
      const found = await pointsInClickHouse(sessionId);
      return found.length === 2 ? found : undefined;
    });
    expect(rows.map((row) => row.ts_ms)).toEqual([1705329005000, 1705329007000]);
    const [entry] = await eventually('the quarantine row', async () => {
      const found = await system.services.db(PROJECTION_QUARANTINE_TABLE).where({ stream_id: stream, position: `${legacy.position.commit}:${legacy.position.prepare}` });
      return found.length > 0 ? found : undefined;
    });
    expect(entry).toMatchObject({
      projection: 'telemetry_analytics',
      stream_id: stream,
      revision: String(history.at(-1)!.revision + 1n),
      position: `${legacy.position.commit}:${legacy.position.prepare}`,
      event_type: 'TelemetryBatchRecorded',
    });
    expect(entry.error).toContain('is not one the upload accepts');
    const brokenPosition = `${broken.position.commit}:${broken.position.prepare}`;
    const pgEntry = await eventually('the PostgreSQL projection quarantine row', async () => {
      const [found] = await system.services.db(PROJECTION_QUARANTINE_TABLE).where({ stream_id: stream, projection: telemetrySessionsProjection.name });
      return found as Record<string, unknown> | undefined;
    });
    expect(pgEntry).toMatchObject({ position: brokenPosition, event_type: 'TelemetryBatchRecorded', revision: String(history.at(-1)!.revision + 2n) });
    expect(String(pgEntry.error)).toContain('recordedAt');
    // Applied: the first batch, the fractional one (PostgreSQL can store it), the later one.
    await eventually('the later batch in PostgreSQL', async () => ((await pointsInPostgres(sessionId)) === 3 ? true : undefined));
    const rebuilt = await rebuildProjection(system.services.db, system.services.store, telemetrySessionsProjection, { logger: system.services.logger });
    expect(rebuilt.quarantined).toEqual([expect.objectContaining({ streamId: stream, position: brokenPosition })]);
    expect(await pointsInPostgres(sessionId)).toBe(3);

    // A replay is not stuck on it either: it rebuilds everything else and reports the event.
    const replay = await replayClickHouseProjection(system.services.analytics, system.services.store, telemetryAnalyticsProjection, {
      logger: system.services.logger,
      quarantineDb: system.services.db,
    });
    expect(replay.quarantined).toEqual([
      expect.objectContaining({ streamId: stream, position: `${legacy.position.commit}:${legacy.position.prepare}` }),
      expect.objectContaining({ streamId: stream, position: brokenPosition }),
    ]);
    expect((await pointsInClickHouse(sessionId)).map((row) => row.ts_ms)).toEqual([1705329005000, 1705329007000]);
    const [after] = await system.services.db(PROJECTION_QUARANTINE_TABLE).where({ stream_id: stream, event_id: entry.event_id });
    expect(after.occurrences).toBe(2);
  });
});
