import { recordTelemetryBatch } from '../../../src/commands/racing/telemetry-session-commands';
import { TelemetrySessionRepository } from '../../../src/commands/racing/telemetry-session-repository';
import { DEFAULT_MAX_POINTS_PER_BATCH } from '../../../src/domain/racing/telemetry-point';
import { readTelemetryBatchRecorded } from '../../../src/domain/racing/telemetry-session-events';
import { createSession, eventually, registerDriver, type Driver } from '../../support/racing';
import { http, startTestSystem, type TestSystem } from '../../support/test-system';

/**
 * Large uploads on the PostgreSQL event store (issue 14, defect 2): they are recorded in parts
 * (TELEMETRY_EVENT_MAX_BYTES, default 512 KiB of points per event), each small enough for
 * EventStoreDB's 1 MiB append limit too, and read back with the same counts.
 */
let system: TestSystem;
let driver: Driver;
beforeAll(async () => {
  system = await startTestSystem();
  driver = await registerDriver(system.url, 'bulk');
});
afterAll(async () => {
  await system?.stop();
});

const T0 = Date.UTC(2024, 0, 15, 14, 30, 0);
/** Every channel, with values whose JSON is long: the worst case per point. */
const point = (i: number) => ({
  timestamp: new Date(T0 + i * 10).toISOString(),
  speed_kmh: 150 + (i % 97) / 3,
  throttle_input: (i % 11) / 13,
  brake_input: (i % 7) / 17,
  steering_input: ((i % 21) - 10) / 11,
  gear: 1 + (i % 6),
  rpm: 4000 + (i % 4000) / 7,
  completed_laps: Math.floor(i / 6000),
  normalized_car_position: (i % 6000) / 6000.3,
  current_lap_time_ms: (i % 6000) * 10,
  current_sector_index: Math.floor((i % 6000) / 2000),
  world_x: Math.sin(i / 1000) * 1234.56789,
  world_y: 12.3456789,
  world_z: Math.cos(i / 1000) * 987.654321,
  is_in_pit: false,
  is_in_pit_lane: false,
  is_valid_lap: true,
});

async function partsOf(sessionId: string) {
  const events = await system.services.store.readStream(`session-${sessionId}`);
  const parts = events.filter((event) => event.type === 'TelemetryBatchRecorded').map((event) => readTelemetryBatchRecorded(event.data));
  for (const event of events) expect(Buffer.byteLength(JSON.stringify(event.data))).toBeLessThan(1024 * 1024);
  return { events, parts };
}

it('stores the largest upload the API accepts in parts, and a retry records nothing more', async () => {
  const sessionId = await createSession(system.url, driver);
  const points = Array.from({ length: DEFAULT_MAX_POINTS_PER_BATCH }, (_, i) => point(i));
  const upload = () =>
    http(system.url, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, { token: driver.token, body: { data_points: points, batch_id: 'big-1' } });
  const res = await upload();
  if (res.status !== 201) throw new Error(JSON.stringify(res.body).slice(0, 600));
  expect(res.body).toMatchObject({ points_created: points.length, batch_id: 'big-1', replayed: false });

  const { events, parts } = await partsOf(sessionId);
  expect(Buffer.byteLength(JSON.stringify(points))).toBeGreaterThan(1024 * 1024); // one event would not fit
  expect(parts.length).toBeGreaterThan(1);
  expect(parts.reduce((sum, part) => sum + part.pointCount, 0)).toBe(points.length);
  expect(parts.flatMap((part) => part.columns.timestampMs)).toEqual(points.map((_, i) => T0 + i * 10));

  const session = await http(system.url, 'GET', `/api/v1/telemetry/sessions/${sessionId}`, { token: driver.token });
  expect(session.body).toMatchObject({ data_points: points.length });

  const again = await upload();
  expect(again.status).toBe(201);
  expect(again.body).toMatchObject({ points_created: points.length, replayed: true });
  expect(await system.services.store.readStream(`session-${sessionId}`)).toHaveLength(events.length);
}, 180_000);

it('records a 100,000-point upload end to end and reads back the same counts', async () => {
  const sessionId = await createSession(system.url, driver);
  const points = Array.from({ length: 100_000 }, (_, i) => point(i));
  const sessions = new TelemetrySessionRepository(system.services.store);
  const ctx = { store: system.services.store, now: () => new Date(), newId: () => 'unused', metadata: {} };
  const result = await recordTelemetryBatch(ctx, sessions, {
    sessionId,
    userId: driver.id,
    batchId: 'huge-1',
    dataPoints: points,
    maxPoints: 100_000,
    maxPartBytes: system.config.TELEMETRY_EVENT_MAX_BYTES,
  });
  expect(result.batch).toMatchObject({ pointCount: 100_000, pointsRecorded: 100_000 });
  const { parts } = await partsOf(sessionId);
  expect(parts.length).toBeGreaterThan(10);
  expect(parts.reduce((sum, part) => sum + part.pointCount, 0)).toBe(100_000);
  await eventually('the session read model to count every point', async () => {
    const session = await http(system.url, 'GET', `/api/v1/telemetry/sessions/${sessionId}`, { token: driver.token });
    return session.body.data_points === 100_000 ? true : undefined;
  }, 60_000);
}, 300_000);
