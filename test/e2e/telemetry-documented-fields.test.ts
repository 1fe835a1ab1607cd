import { startClickHouseProjections } from '../../src/runtime/background-roles';
import type { RunningRole } from '../../src/runtime/background-roles';
import { documentedPoints, type DocumentedPoint } from '../fixtures/telemetry/documented-fields';
import { generateSession, type GeneratedSession } from '../fixtures/telemetry/trace-generator';
import { eventually, registerDriver, type Driver } from '../support/racing';
import { http, startTestSystem, type TestSystem } from '../support/test-system';

/**
 * A client that knows only the LapXcel document: it creates sessions with the documented body and
 * uploads points with the seven documented channels (no position, no lap counter, no batch id),
 * with sensor noise, out of the pit box and with a pit stop. Laps are estimated from the traces
 * (docs/telemetry.md, "Laps without positions") and show in overview, consistency, compare, and
 * the leaderboard with include_estimated=true; the plain leaderboard keeps only measured laps.
 */

let system: TestSystem;
let analyticsRole: RunningRole;
let driver: Driver;

const TRACK = 'Monza';
const CAR = 'Ferrari 488 GT3';
const BATCH = 5000;

interface Run {
  sessionId: string;
  generated: GeneratedSession;
  points: DocumentedPoint[];
}

const api = (method: string, path: string, body?: unknown) => http(system.url, method, `/api/v1${path}`, { token: driver.token, body });
const data = (res: { body: Record<string, unknown> }) => res.body.data as Record<string, unknown>;

function trace(seed: number, driverSkill: number): Omit<Run, 'sessionId'> {
  const generated = generateSession({ seed, laps: 6, hz: 20, driverSkill, start: 'pit', pitStopOnLap: 3 });
  return { generated, points: documentedPoints(generated.points, { seed: seed + 100 }) };
}

async function drive(name: string, { generated, points }: Omit<Run, 'sessionId'>): Promise<Run> {
  // The document's create body, nothing more (no track length).
  const created = await api('POST', '/telemetry/sessions', {
    session_name: name,
    track_name: TRACK,
    car_model: CAR,
    weather_conditions: 'Clear',
    track_temperature: 25.5,
    air_temperature: 20.0,
  });
  expect(created.status).toBe(201);
  const sessionId = String(created.body.id);
  for (let from = 0; from < points.length; from += BATCH) {
    const res = await api('POST', `/telemetry/sessions/${sessionId}/data`, { data_points: points.slice(from, from + BATCH) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ message: 'Telemetry data uploaded successfully', points_created: Math.min(BATCH, points.length - from) });
  }
  return { sessionId, generated, points };
}

let fast: Run;
let slow: Run;

beforeAll(async () => {
  system = await startTestSystem();
  analyticsRole = await startClickHouseProjections(system.services);
  // Traces first: seconds of synchronous work between two requests can make the client reuse a
  // keep-alive socket the in-process server is closing.
  const fastTrace = trace(21, 0.95);
  const slowTrace = trace(22, 0.6);
  driver = await registerDriver(system.url, 'docs_only');
  fast = await drive('Monza Practice', fastTrace);
  slow = await drive('Monza Warmup', slowTrace);
}, 300_000);
afterAll(async () => {
  await analyticsRole?.stop();
  await system?.stop();
});

const lapsOf = async (run: Run) => Number((await api('GET', `/telemetry/sessions/${run.sessionId}`)).body.total_laps);

describe('telemetry with only the documented point fields', () => {
  it('estimates laps while the data arrives: every lap but possibly the last before the session is completed', async () => {
    for (const run of [fast, slow]) expect(await lapsOf(run)).toBeGreaterThanOrEqual(run.generated.laps.length - 1);
    const overview = await eventually('laps in the overview', async () => {
      const answer = data(await api('GET', '/analytics/performance/overview?period=all_time'));
      return Number(answer.total_laps) >= fast.generated.laps.length + slow.generated.laps.length - 2 ? answer : undefined;
    });
    expect(overview).toMatchObject({ total_sessions: 2, tracks_driven: 1, cars_used: 1 });
    expect(typeof overview.best_lap_time).toBe('number');
    expect(Number(overview.valid_laps)).toBeGreaterThan(0);
  });

  it('completes the sessions with exactly the laps driven, timed within 1 % of the truth', async () => {
    for (const run of [fast, slow]) {
      expect((await api('POST', `/telemetry/sessions/${run.sessionId}/complete`)).status).toBe(200);
      expect(await lapsOf(run)).toBe(run.generated.laps.length);
    }
    await eventually('all laps in the overview', async () => {
      const answer = data(await api('GET', '/analytics/performance/overview?period=all_time'));
      return answer.total_laps === fast.generated.laps.length + slow.generated.laps.length ? true : undefined;
    });
    const session = (await api('GET', `/telemetry/sessions/${fast.sessionId}`)).body;
    const cleanTruth = fast.generated.laps.filter((lap) => lap.expectedReasons.length === 0).map((lap) => lap.lapTimeMs / 1000);
    const bestTruth = Math.min(...cleanTruth);
    expect(Math.abs(Number(session.best_lap_time) - bestTruth) / bestTruth).toBeLessThan(0.01);
  });

  it('answers consistency with the documented sectors filled in', async () => {
    const consistency = data(await api('GET', `/analytics/consistency?session_id=${fast.sessionId}`));
    expect(Number(consistency.total_laps_analyzed)).toBeGreaterThanOrEqual(3);
    expect(typeof consistency.consistency_score).toBe('number');
    const sectors = consistency.sector_consistency as Record<string, { score: number | null; mean: number | null }>;
    expect(Object.keys(sectors)).toEqual(['sector_1', 'sector_2', 'sector_3']);
    for (const sector of Object.values(sectors)) expect(typeof sector.mean).toBe('number');
  });

  it('compares the two sessions: the skilled one is faster, significantly', async () => {
    const res = await api('POST', '/analytics/compare/sessions', { primary_session_id: fast.sessionId, secondary_session_id: slow.sessionId, comparison_type: 'detailed' });
    expect(res.status).toBe(200);
    const comparison = data(res);
    expect(Number(comparison.lap_time_delta)).toBeLessThan(0);
    expect(comparison.significance).toBe('high');
    expect(Array.isArray(comparison.recommendations)).toBe(true);
  });

  it('ranks estimated laps only with include_estimated=true, never verified', async () => {
    const board = async (query: string) => data(await http(system.url, 'GET', `/api/v1/analytics/leaderboard?track_name=${encodeURIComponent(TRACK)}&car_model=${encodeURIComponent(CAR)}${query}`));
    expect((await board('')).entries).toEqual([]);
    const withEstimated = await eventually('the estimated board', async () => {
      const answer = await board('&include_estimated=true');
      return (answer.entries as unknown[]).length > 0 ? answer : undefined;
    });
    const entries = withEstimated.entries as Array<Record<string, unknown>>;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ rank: 1, user_id: driver.id, estimated: true, is_verified: false, session_id: fast.sessionId });
    const session = (await api('GET', `/telemetry/sessions/${fast.sessionId}`)).body;
    expect(entries[0]!.time).toBe(session.best_lap_time);
    expect((await http(system.url, 'GET', `/api/v1/analytics/leaderboard?track_name=${TRACK}&car_model=x&include_estimated=maybe`)).status).toBe(400);
  });
});
