import { z } from 'zod';
import { WS_CLOSE } from '../../src/api/shared/websocket/websocket-gateway';
import { startClickHouseProjections } from '../../src/runtime/background-roles';
import { replayClickHouseProjection } from '../../src/projections/clickhouse/clickhouse-replay';
import { telemetryAnalyticsProjection } from '../../src/projections/clickhouse/racing/telemetry-analytics-projection';
import { projectionsForReplay } from '../../src/runtime/app-container';
import { rebuildProjection } from '../../src/projections/postgres/projection-rebuild';
import { startApiServer, type RunningApi } from '../../src/runtime/api-server';
import type { RunningRole } from '../../src/runtime/background-roles';
import { generateSession, type GeneratedSession, type SessionOptions } from '../fixtures/telemetry/trace-generator';
import { analyticsCaughtUp, createSession, registerDriver, uploadInBatches, type Driver } from '../support/racing';
import { http, startTestSystem, type TestSystem } from '../support/test-system';
import { connectWebSocket, type WebSocketTestClient } from '../support/ws-client';

/**
 * A recorded-style multi-lap trace (the generator's car on its 4.57 km track) uploaded over HTTP
 * in batches, through every part of the system: lap and sector detection in the aggregate, the
 * PostgreSQL session and leaderboard read models, ClickHouse, the analytics endpoints, and a
 * WebSocket subscriber on a second API process receiving the points through the bus.
 */

let system: TestSystem;
let analyticsRole: RunningRole;
let secondApi: RunningApi;
let alice: Driver;
let bob: Driver;

const HZ = 20;
const BATCH = 1000;
const TRACK = 'Generated Ring';
const CAR = 'GT3';

interface Uploaded {
  sessionId: string;
  generated: GeneratedSession;
}

async function drive(driver: Driver, name: string, generated: GeneratedSession): Promise<Uploaded> {
  const sessionId = await createSession(system.url, driver, { session_name: name, track_name: TRACK, car_model: CAR, track_length_m: generated.trackLengthM });
  return { sessionId, generated };
}

const api = (method: string, path: string, driver?: Driver, body?: unknown) => http(system.url, method, `/api/v1${path}`, { token: driver?.token, body });
const wsUrl = (base: string, driver: Driver) => `${base.replace('http', 'ws')}/ws/telemetry?token=${driver.token}`;
const data = (res: { body: Record<string, unknown> }) => res.body.data as Record<string, unknown>;

let aliceFast: Uploaded;
let aliceTimid: Uploaded;
let bobSlow: Uploaded;
let subscriber: WebSocketTestClient;

beforeAll(async () => {
  system = await startTestSystem();
  analyticsRole = await startClickHouseProjections(system.services);
  // A second API process on the same bus: WebSocket pushes must reach its sockets too.
  secondApi = await startApiServer(system.services, { host: '127.0.0.1', port: 0 });
  // Generated before any request: seconds of synchronous work between two requests let the
  // client reuse a keep-alive socket the in-process server is about to close (ECONNRESET).
  const generate = (options: SessionOptions) => generateSession({ hz: HZ, ...options });
  const fastTrace = generate({ seed: 1, laps: 5, driverSkill: 0.95, start: 'pit', cutOnLap: 4 });
  const timidTrace = generate({ seed: 3, laps: 5, driverSkill: 0.95, start: 'rolling', sectorGripScale: [1, 0.9, 1] });
  const slowTrace = generate({ seed: 2, laps: 5, driverSkill: 0.6, start: 'rolling' });
  [alice, bob] = await Promise.all([registerDriver(system.url, 'alice'), registerDriver(system.url, 'bob')]);
  aliceFast = await drive(alice, 'Fast', fastTrace);
  aliceTimid = await drive(alice, 'Timid', timidTrace);
  bobSlow = await drive(bob, 'Slow', slowTrace);

  subscriber = await connectWebSocket(wsUrl(secondApi.url, alice));
  subscriber.ws.send(JSON.stringify({ type: 'subscribe', session_id: aliceFast.sessionId }));
  await subscriber.next((m) => m.type === 'subscribed');

  for (const [driver, run] of [[alice, aliceFast], [alice, aliceTimid], [bob, bobSlow]] as const) {
    expect(await uploadInBatches(system.url, driver, run.sessionId, run.generated.points, BATCH)).toBe(run.generated.points.length);
  }
  for (const run of [aliceFast, aliceTimid, bobSlow]) {
    await analyticsCaughtUp(system.services.analytics, run.sessionId, { points: run.generated.points.length, laps: run.generated.laps.length });
  }
}, 120_000);
afterAll(async () => {
  subscriber?.ws.close();
  await secondApi?.stop();
  await analyticsRole?.stop();
  await system?.stop();
});

const LapRow = z.object({ lap_number: z.coerce.number(), lap_time_ms: z.coerce.number(), sector_times_ms: z.array(z.coerce.number().nullable()), valid: z.boolean(), is_verified: z.boolean() });

describe('telemetry end to end', () => {
  it('detects the generated laps and sectors, across batch boundaries', async () => {
    const { sessionId, generated } = aliceFast;
    const laps = await system.services.analytics.query(
      'SELECT lap_number, lap_time_ms, sector_times_ms, valid, is_verified FROM {db}.laps FINAL WHERE session_id = {s:UUID} ORDER BY lap_number',
      { s: sessionId },
      LapRow,
    );
    expect(laps.map((lap) => lap.lap_number)).toEqual(generated.laps.map((lap) => lap.lapNumber));
    for (const [i, truth] of generated.laps.entries()) {
      const lap = laps[i]!;
      expect(Math.abs(lap.lap_time_ms - truth.lapTimeMs)).toBeLessThanOrEqual(2);
      expect(lap.valid).toBe(truth.expectedReasons.length === 0);
      // The sim's sector index splits at the midpoint of two samples: within one interval.
      truth.sectorTimesMs.forEach((truthMs, sector) => {
        if (truthMs === null) expect(lap.sector_times_ms[sector]).toBeNull();
        else expect(Math.abs(lap.sector_times_ms[sector]! - truthMs)).toBeLessThanOrEqual(1000 / HZ + 2);
      });
    }
    expect(laps.filter((lap) => lap.valid).map((lap) => lap.lap_number)).toEqual([2, 3, 5, 6]);
    expect(laps.filter((lap) => lap.valid).every((lap) => lap.is_verified)).toBe(true);

    const events = await system.services.store.readStream(`session-${sessionId}`);
    const expectedSectors = generated.laps.flatMap((lap) => lap.sectorTimesMs.filter((t) => t !== null)).length;
    expect(events.filter((e) => e.type === 'SectorCompleted')).toHaveLength(expectedSectors);
    expect(events.filter((e) => e.type === 'TelemetryBatchRecorded')).toHaveLength(Math.ceil(generated.points.length / BATCH));

    const session = await api('GET', `/telemetry/sessions/${sessionId}`, alice);
    const bestValidMs = Math.min(...laps.filter((lap) => lap.valid).map((lap) => lap.lap_time_ms));
    expect(session.body).toMatchObject({ total_laps: generated.laps.length, valid_laps: 4, best_lap_time: bestValidMs / 1000, data_points: generated.points.length });
  });

  it('streams every uploaded point to a WebSocket subscriber on another API process, in the contract shape', async () => {
    const total = aliceFast.generated.points.length;
    const received = () => subscriber.messages.filter((m) => m.type === 'telemetry_data');
    for (let waited = 0; received().length < total && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(received()).toHaveLength(total);
    const first = aliceFast.generated.points[0]!;
    expect(received()[0]).toEqual({
      type: 'telemetry_data',
      session_id: aliceFast.sessionId,
      telemetry: {
        timestamp: first.timestamp,
        speed: first.speed_kmh,
        throttle: first.throttle_input,
        brake: first.brake_input,
        steering: first.steering_input,
        gear: first.gear,
        rpm: first.rpm,
      },
    });
    const timestamps = received().map((m) => (m.telemetry as { timestamp: string }).timestamp);
    expect(timestamps).toEqual(aliceFast.generated.points.map((p) => p.timestamp));
    // Only the subscribed session: nothing of the other sessions reached this socket.
    expect(subscriber.messages.every((m) => m.session_id === undefined || m.session_id === aliceFast.sessionId)).toBe(true);
    expect(subscriber.messages.filter((m) => m.type === 'lap_completed')).toHaveLength(aliceFast.generated.laps.length);
  });

  it('answers WebSocket errors clearly: bad token, unknown or foreign session, malformed message; 10 connections per user', async () => {
    const bad = await connectWebSocket(`${secondApi.url.replace('http', 'ws')}/ws/telemetry?token=nope`);
    expect(await bad.next()).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' });
    expect(await bad.closed).toBe(WS_CLOSE.unauthorized);

    const client = await connectWebSocket(wsUrl(system.url, bob));
    client.ws.send(JSON.stringify({ type: 'subscribe', session_id: aliceFast.sessionId }));
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'FORBIDDEN' });
    client.ws.send(JSON.stringify({ type: 'subscribe', session_id: '00000000-0000-4000-8000-000000000000' }));
    expect(await client.next((m) => m.code === 'NOT_FOUND')).toMatchObject({ type: 'error', error: 'Session not found' });
    client.ws.send(JSON.stringify({ type: 'subscribe', session_id: 'x' }));
    expect(await client.next((m) => m.code === 'INVALID_MESSAGE')).toMatchObject({ details: { fields: { session_id: 'session_id must be a session UUID' } } });
    client.ws.send('not json');
    expect(await client.next((m) => m.error === 'Message is not valid JSON')).toMatchObject({ code: 'INVALID_MESSAGE' });
    client.ws.send(JSON.stringify({ type: 'subscribe', session_id: bobSlow.sessionId }));
    expect(await client.next((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', session_id: bobSlow.sessionId });
    client.ws.send(JSON.stringify({ type: 'unsubscribe', session_id: bobSlow.sessionId }));
    expect(await client.next((m) => m.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', session_id: bobSlow.sessionId });

    const more = await Promise.all(Array.from({ length: 9 }, () => connectWebSocket(wsUrl(system.url, bob))));
    const eleventh = await connectWebSocket(wsUrl(system.url, bob));
    expect(await eleventh.next()).toMatchObject({ type: 'error', code: 'RATE_LIMIT_EXCEEDED' });
    expect(await eleventh.closed).toBe(WS_CLOSE.tooManyConnections);
    for (const c of [client, ...more]) c.ws.close();
  });

  it('ranks drivers on the leaderboard by their best valid lap, overall and per sector', async () => {
    const board = await api('GET', `/analytics/leaderboard?track_name=${encodeURIComponent(TRACK)}&car_model=${CAR}`);
    expect(board.status).toBe(200);
    const entries = data(board).entries as Array<Record<string, unknown>>;
    expect(entries.map((e) => [e.rank, e.user_id])).toEqual([
      [1, alice.id],
      [2, bob.id],
    ]);
    const bestOf = (...runs: Uploaded[]) =>
      Math.min(...runs.flatMap((run) => run.generated.laps.filter((lap) => lap.expectedReasons.length === 0).map((lap) => lap.lapTimeMs)));
    expect(Math.abs((entries[0]!.time as number) * 1000 - bestOf(aliceFast, aliceTimid))).toBeLessThanOrEqual(2);
    expect(Math.abs((entries[1]!.time as number) * 1000 - bestOf(bobSlow))).toBeLessThanOrEqual(2);
    expect(entries[0]).toMatchObject({ is_verified: true, username: alice.username });
    expect(typeof entries[0]!.consistency_score).toBe('number');
    expect(new Date(String(entries[0]!.record_date)).getUTCFullYear()).toBe(2024);

    const sector2 = await api('GET', `/analytics/leaderboard?track_name=${encodeURIComponent(TRACK)}&car_model=${CAR}&category=sector_2&limit=1`);
    expect(data(sector2)).toMatchObject({ category: 'sector_2', entries: [{ rank: 1, user_id: alice.id }] });
  });

  it('finds the timid sector 2 when comparing sessions, with a real significance test', async () => {
    const res = await api('POST', '/analytics/compare/sessions', alice, { primary_session_id: aliceTimid.sessionId, secondary_session_id: aliceFast.sessionId });
    expect(res.status).toBe(200);
    const result = data(res);
    expect(result.lap_time_delta as number).toBeGreaterThan(0.3);
    expect(result.significance).toBe('high');
    expect(result.overall_score).toBe(-100);
    expect((result.statistics as { p_value: number }).p_value).toBeLessThan(0.01);
    const sentences = result.recommendations as string[];
    expect(sentences[0]).toMatch(/^Sector 2 costs you \d\.\d\d s per lap on average/);
    expect(sentences.some((s) => s.startsWith('In the braking zone'))).toBe(true);

    const basic = await api('POST', '/analytics/compare/sessions', alice, { primary_session_id: aliceTimid.sessionId, secondary_session_id: aliceFast.sessionId, comparison_type: 'basic' });
    expect((data(basic).recommendations as string[]).some((s) => s.startsWith('In the braking zone'))).toBe(false);
  });

  it('traces the delta time between two laps along the track', async () => {
    const path = `/analytics/laps/delta?session_a=${aliceFast.sessionId}&lap_a=2&session_b=${aliceTimid.sessionId}&lap_b=3&points=50`;
    const res = await api('GET', path, alice);
    expect(res.status).toBe(200);
    const trace = data(res);
    const samples = trace.samples as Array<{ position: number; distance_m: number; delta: number }>;
    expect(samples).toHaveLength(50);
    expect(samples[0]).toMatchObject({ position: 0, distance_m: 0, delta: 0 });
    expect(samples[49]!.position).toBe(1);
    expect(samples[49]!.delta).toBeCloseTo((trace.lap_time_b as number) - (trace.lap_time_a as number), 3);
    // The timid driver loses its time in the middle third.
    const at = (position: number) => samples.reduce((a, b) => (Math.abs(b.position - position) < Math.abs(a.position - position) ? b : a)).delta;
    expect(at(2 / 3) - at(1 / 3)).toBeGreaterThan(0.5 * samples[49]!.delta);
  });

  it('summarizes performance over a period, and per-sector consistency', async () => {
    const overview = data(await api('GET', '/analytics/performance/overview?period=all_time', alice));
    expect(overview).toMatchObject({ total_sessions: 2, tracks_driven: 1, cars_used: 1, period: 'all_time' });
    expect(overview.total_laps).toBe(aliceFast.generated.laps.length + aliceTimid.generated.laps.length);
    expect(typeof overview.consistency_score).toBe('number');
    // The traces were driven in January 2024: nothing falls in the last day.
    expect(data(await api('GET', '/analytics/performance/overview?period=daily', alice))).toMatchObject({ total_sessions: 0, total_laps: 0 });

    const consistency = data(await api('GET', `/analytics/consistency?session_id=${aliceFast.sessionId}`, alice));
    expect(consistency.total_laps_analyzed).toBe(4);
    expect(Object.keys(consistency.sector_consistency as object)).toEqual(['sector_1', 'sector_2', 'sector_3']);
    const stats = consistency.lap_time_statistics as Record<string, number>;
    expect(stats.best).toBeLessThanOrEqual(stats.mean);
    expect(stats.worst).toBeGreaterThanOrEqual(stats.mean);
  });

  it('rebuilds the leaderboards (arena replay leaderboards) to identical rows', async () => {
    const snapshot = async () => ({
      board: await system.services.db('racing_leaderboard').select('*').orderBy(['track_name', 'car_model', 'category', 'user_id']),
      laps: await system.services.db('racing_lap_times').select('*').orderBy(['session_id', 'lap_number']),
    });
    const live = await snapshot();
    expect(live.board.length).toBeGreaterThanOrEqual(8);
    for (const projection of projectionsForReplay('leaderboards')) {
      await rebuildProjection(system.services.db, system.services.store, projection, { logger: system.services.logger });
    }
    expect(await snapshot()).toEqual(live);
  });

  it('replays the ClickHouse tables from history to the same rows, without duplicates', async () => {
    const { analytics } = system.services;
    const Summary = z.object({ points: z.coerce.number(), distinct_points: z.coerce.number(), laps: z.coerce.number(), lap_sum: z.coerce.number() });
    const summary = async () =>
      (
        await analytics.query(
          `SELECT (SELECT count() FROM {db}.telemetry_points) AS points,
                  (SELECT uniqExact(session_id, ts) FROM {db}.telemetry_points) AS distinct_points,
                  (SELECT count() FROM {db}.laps) AS laps,
                  (SELECT sum(lap_time_ms) FROM {db}.laps) AS lap_sum`,
          {},
          Summary,
        )
      )[0];
    const before = await summary();
    const expectedPoints = [aliceFast, aliceTimid, bobSlow].reduce((sum, run) => sum + run.generated.points.length, 0);
    expect(before).toMatchObject({ points: expectedPoints, distinct_points: expectedPoints });
    const result = await replayClickHouseProjection(analytics, system.services.store, telemetryAnalyticsProjection, { logger: system.services.logger });
    expect(result.rowsWritten).toBe(before!.points + before!.laps);
    expect(await summary()).toEqual(before);
  });
});
