import { get } from 'node:http';
import { createHash } from 'node:crypto';
import { readTelemetryBatchRecorded } from '../../../src/domain/racing/telemetry-session-events';
import { rebuildProjection } from '../../../src/projections/postgres/projection-rebuild';
import { telemetrySessionsProjection } from '../../../src/projections/postgres/racing/telemetry-sessions-projection';
import { startClickHouseProjections } from '../../../src/runtime/background-roles';
import { SessionListAnswers } from '../../../src/api/racing/session-list-answer';
import type { RunningRole } from '../../../src/runtime/background-roles';
import { analyticsCaughtUp, createSession, registerDriver, type Driver } from '../../support/racing';
import { http, startTestSystem, type TestSystem } from '../../support/test-system';

/** Every Telemetry and Analytics route of the LapXcel contract, with its error answers. */

let system: TestSystem;
let analyticsRole: RunningRole;
let alice: Driver;
let bob: Driver;
beforeAll(async () => {
  system = await startTestSystem();
  analyticsRole = await startClickHouseProjections(system.services);
  [alice, bob] = await Promise.all([registerDriver(system.url, 'alice'), registerDriver(system.url, 'bob')]);
});
afterAll(async () => {
  await analyticsRole?.stop();
  await system?.stop();
});

const api = (method: string, path: string, driver?: Driver, body?: unknown, headers?: Record<string, string>) =>
  http(system.url, method, `/api/v1${path}`, { token: driver?.token, body, headers });

const T0 = Date.UTC(2024, 0, 15, 14, 30, 0);
const point = (i: number, overrides: Record<string, unknown> = {}) => ({
  timestamp: new Date(T0 + i * 50).toISOString(),
  speed_kmh: 200 + (i % 10),
  throttle_input: 1,
  brake_input: 0,
  steering_input: 0.1,
  gear: 6,
  rpm: 7500,
  ...overrides,
});
const points = (from: number, count: number) => Array.from({ length: count }, (_, i) => point(from + i));

describe('telemetry sessions', () => {
  it('creates a session (201) with the contract fields and reads it back', async () => {
    const res = await api('POST', '/telemetry/sessions', alice, {
      session_name: 'Monza Practice',
      track_name: 'Monza',
      car_model: 'Ferrari 488 GT3',
      weather_conditions: 'Clear',
      track_temperature: 25.5,
      air_temperature: 20.0,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ session_name: 'Monza Practice', track_name: 'Monza', car_model: 'Ferrari 488 GT3', weather_conditions: 'Clear', total_laps: 0, is_complete: false, best_lap_time: null });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(String(res.body.created_at)).toISOString()).toBe(res.body.created_at);
    const events = await system.services.store.readStream(`session-${String(res.body.id)}`);
    expect(events.map((e) => e.type)).toEqual(['SessionCreated']);

    const got = await api('GET', `/telemetry/sessions/${String(res.body.id)}`, alice);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('validates the create body (400) and requires a token (401)', async () => {
    const missing = await api('POST', '/telemetry/sessions', alice, { session_name: 'x', car_model: 'y' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ status_code: 400, error_type: 'ValidationError' });
    expect(Object.keys(missing.body.details as object)).toContain('fields');
    expect((missing.body.details as { fields: Record<string, string> }).fields).toHaveProperty('track_name');
    expect((await api('POST', '/telemetry/sessions', undefined, { session_name: 'x', track_name: 'y', car_model: 'z' })).status).toBe(401);
  });

  it("answers 404 for an unknown session, 403 for another user's, 404 for a malformed id (an id of another shape is simply unknown)", async () => {
    const id = await createSession(system.url, alice);
    expect((await api('GET', `/telemetry/sessions/${id}`, bob)).status).toBe(403);
    expect((await api('GET', '/telemetry/sessions/00000000-0000-4000-8000-000000000000', alice)).status).toBe(404);
    expect((await api('GET', '/telemetry/sessions/not-a-uuid', alice)).status).toBe(404);
    const forbidden = await api('POST', `/telemetry/sessions/${id}/data`, bob, { data_points: points(0, 2) });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ status_code: 403, error_type: 'ForbiddenError' });
    expect((await api('POST', '/telemetry/sessions/00000000-0000-4000-8000-000000000000/data', alice, { data_points: points(0, 2) })).status).toBe(404);
    expect((await api('POST', `/telemetry/sessions/${id}/complete`, bob)).status).toBe(403);
  });

  it('lists only your sessions, newest first, with filters, paging and the total', async () => {
    const carol = await registerDriver(system.url, 'carol');
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(await createSession(system.url, carol, { session_name: `S${i}`, track_name: i < 3 ? 'Spa' : 'Monza', car_model: i % 2 === 0 ? 'Porsche 911 GT3 R' : 'BMW M4 GT3' }));
    }
    await createSession(system.url, bob, { track_name: 'Spa' });

    const all = await api('GET', '/telemetry/sessions', carol);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ total: 5, limit: 50, offset: 0 });
    expect((all.body.sessions as Array<{ id: string }>).map((s) => s.id)).toEqual([...ids].reverse());
    expect(Object.keys((all.body.sessions as object[])[0]!)).toEqual(
      expect.arrayContaining(['id', 'session_name', 'track_name', 'car_model', 'total_laps', 'best_lap_time', 'session_start', 'is_complete']),
    );

    const spa = await api('GET', '/telemetry/sessions?track_name=Spa', carol);
    expect(spa.body.total).toBe(3);
    const spaPorsche = await api('GET', `/telemetry/sessions?track_name=Spa&car_model=${encodeURIComponent('Porsche 911 GT3 R')}`, carol);
    expect((spaPorsche.body.sessions as Array<{ session_name: string }>).map((s) => s.session_name)).toEqual(['S2', 'S0']);
    expect(spaPorsche.body.total).toBe(2);

    const page = await api('GET', '/telemetry/sessions?limit=2&offset=1', carol);
    expect(page.body).toMatchObject({ total: 5, limit: 2, offset: 1 });
    expect((page.body.sessions as Array<{ id: string }>).map((s) => s.id)).toEqual([ids[3], ids[2]]);
    // A page past the end has no row to carry the total: it is still the filter's total.
    const pastTheEnd = await api('GET', '/telemetry/sessions?limit=2&offset=7&track_name=Spa', carol);
    expect(pastTheEnd.body).toMatchObject({ sessions: [], total: 3, limit: 2, offset: 7 });
    expect((await api('GET', '/telemetry/sessions?track_name=Nowhere', carol)).body).toMatchObject({ sessions: [], total: 0 });

    expect((await api('GET', '/telemetry/sessions?limit=100', carol)).status).toBe(200);
    const tooMany = await api('GET', '/telemetry/sessions?limit=101', carol);
    expect(tooMany.status).toBe(400);
    expect((tooMany.body.details as { fields: Record<string, string> }).fields).toHaveProperty('limit');
    expect((await api('GET', '/telemetry/sessions?offset=-1', carol)).status).toBe(400);
    expect((await api('GET', '/telemetry/sessions')).status).toBe(401);
  });

  it('lists each session byte for byte as GET /telemetry/sessions/{id} answers it, after every change to it', async () => {
    const dave = await registerDriver(system.url, 'dave');
    const text = async (path: string): Promise<string> => {
      const response = await fetch(`${system.url}/api/v1${path}`, { headers: { authorization: `Bearer ${dave.token}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      return response.text();
    };
    const first = await createSession(system.url, dave, {
      session_name: 'Wet "heavy" \\ rain é',
      weather_conditions: 'Rain',
      track_temperature: 31.7,
      air_temperature: -0.5,
      track_length_m: 4909.1,
    });
    const second = await createSession(system.url, dave, { session_name: 'Dry' });
    const expectListed = async (): Promise<Record<string, unknown>> => {
      const [listed, one, two] = [await text('/telemetry/sessions'), await text(`/telemetry/sessions/${first}`), await text(`/telemetry/sessions/${second}`)];
      expect(listed).toBe(`{"sessions":[${two},${one}],"total":2,"limit":50,"offset":0}`);
      return JSON.parse(one) as Record<string, unknown>;
    };
    expect(await expectListed()).toMatchObject({ data_points: 0, is_complete: false, track_temperature: 31.7, air_temperature: -0.5 });

    // Each change to a row is a new version of it: the list shows it, however often it was listed before.
    expect((await api('POST', `/telemetry/sessions/${first}/data`, dave, { data_points: points(0, 20) })).status).toBe(201);
    expect(await expectListed()).toMatchObject({ data_points: 20, session_start: new Date(T0).toISOString(), is_complete: false });
    expect((await api('POST', `/telemetry/sessions/${first}/data`, dave, { data_points: points(20, 5) })).status).toBe(201);
    expect(await expectListed()).toMatchObject({ data_points: 25 });
    expect((await api('POST', `/telemetry/sessions/${first}/complete`, dave)).status).toBe(200);
    expect(await expectListed()).toMatchObject({ data_points: 25, is_complete: true });
    // A change this process did not make (another API or projection process writing the read model).
    await system.services.db('telemetry_sessions').where({ id: first }).update({ total_laps: 3, valid_laps: 2, best_lap_time_ms: 83456 });
    expect(await expectListed()).toMatchObject({ total_laps: 3, valid_laps: 2, best_lap_time: 83.456 });
    expect(await text('/telemetry/sessions?limit=1&offset=1')).toBe(`{"sessions":[${await text(`/telemetry/sessions/${first}`)}],"total":2,"limit":1,"offset":1}`);

    // The headers of res.json: express's weak ETag of these bytes, and 304 for a client that has them.
    for (let round = 0; round < 2; round += 1) {
      const response = await fetch(`${system.url}/api/v1/telemetry/sessions`, { headers: { authorization: `Bearer ${dave.token}` } });
      const bytes = Buffer.from(await response.arrayBuffer());
      const etag = `W/"${bytes.length.toString(16)}-${createHash('sha1').update(bytes).digest('base64').slice(0, 27)}"`;
      expect([response.headers.get('etag'), response.headers.get('content-length')]).toEqual([etag, String(bytes.length)]);
      // node:http, not fetch: fetch adds Cache-Control: no-cache to a conditional request.
      const revalidated = await new Promise<number | undefined>((resolve, reject) => {
        get(`${system.url}/api/v1/telemetry/sessions`, { headers: { authorization: `Bearer ${dave.token}`, 'if-none-match': etag } }, (answer) => {
          answer.resume();
          resolve(answer.statusCode);
        }).on('error', reject);
      });
      expect(revalidated).toBe(304);
    }
    const headerNames = (path: string) =>
      new Promise<string[]>((resolve, reject) => {
        get(`${system.url}/api/v1${path}`, { headers: { authorization: `Bearer ${dave.token}` } }, (answer) => {
          answer.resume();
          resolve(answer.rawHeaders.filter((_, index) => index % 2 === 0));
        }).on('error', reject);
      });
    expect(await headerNames('/telemetry/sessions')).toEqual(await headerNames(`/telemetry/sessions/${first}`));
  });

  it('builds a page asked for by many requests at once once: its rows read and rendered once, one answer for all', async () => {
    const frank = await registerDriver(system.url, 'frank');
    const sessionIds = [await createSession(system.url, frank, { session_name: 'One' }), await createSession(system.url, frank, { session_name: 'Two' })];
    const rendered: string[] = [];
    const answers = new SessionListAnswers(system.services.db, (row) => {
      rendered.push(row.id);
      return JSON.stringify({ id: row.id, name: row.session_name });
    });
    const filter = { ownerId: frank.id, limit: 50, offset: 0 };
    const pages = await Promise.all(Array.from({ length: 8 }, () => answers.page(filter)));
    expect(rendered.sort()).toEqual([...sessionIds].sort());
    expect(new Set(pages).size).toBe(1);
    expect(JSON.parse(pages[0]!.bytes.toString('utf8'))).toEqual({
      sessions: [{ id: sessionIds[1], name: 'Two' }, { id: sessionIds[0], name: 'One' }],
      total: 2,
      limit: 50,
      offset: 0,
    });
  });

  it('lists the same bytes after the read model is rebuilt and swapped in (prepared statements, new row versions)', async () => {
    const erin = await registerDriver(system.url, 'erin');
    const session = await createSession(system.url, erin, { track_temperature: 22.25 });
    await createSession(system.url, erin, { session_name: 'Second' });
    expect((await api('POST', `/telemetry/sessions/${session}/data`, erin, { data_points: points(0, 10) })).status).toBe(201);
    const listed = async (): Promise<string> => {
      const response = await fetch(`${system.url}/api/v1/telemetry/sessions?limit=5`, { headers: { authorization: `Bearer ${erin.token}` } });
      expect(response.status).toBe(200);
      return response.text();
    };
    const before = await listed();
    // Every pooled connection has run the page's prepared statement before the tables are swapped.
    await Promise.all(Array.from({ length: 12 }, () => listed()));
    await rebuildProjection(system.services.db, system.services.store, telemetrySessionsProjection, { logger: system.services.logger });
    for (const answer of await Promise.all(Array.from({ length: 12 }, () => listed()))) expect(answer).toBe(before);
    expect(JSON.parse(before)).toMatchObject({ total: 2, limit: 5, offset: 0 });
  });
});

describe('telemetry upload', () => {
  it('stores a batch as one event and answers 201 with points_created', async () => {
    const id = await createSession(system.url, alice);
    const res = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(0, 100) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ message: 'Telemetry data uploaded successfully', points_created: 100, replayed: false });
    const events = await system.services.store.readStream(`session-${id}`);
    expect(events.map((e) => e.type)).toEqual(['SessionCreated', 'TelemetryBatchRecorded']);
    const { columns } = readTelemetryBatchRecorded(events[1]!.data); // stored packed (format 2): read through the decoder
    expect(columns.speedKmh).toHaveLength(100);
    expect(columns.timestampMs![0]).toBe(T0);
    expect((await api('GET', `/telemetry/sessions/${id}`, alice)).body).toMatchObject({ data_points: 100, session_start: new Date(T0).toISOString() });
  });

  it('rejects the whole batch naming the bad point and field (400), storing nothing', async () => {
    const id = await createSession(system.url, alice);
    const batch = points(0, 20);
    batch[12] = point(12, { speed_kmh: 900 });
    const res = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: batch });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      status_code: 400,
      error_type: 'ValidationError',
      detail: 'Invalid telemetry batch: data_points.12.speed_kmh: must be <= 500 km/h',
      details: { location: 'body', point_index: 12, field: 'speed_kmh', fields: { 'data_points.12.speed_kmh': 'must be <= 500 km/h' } },
    });
    const missing = points(0, 5);
    delete (missing[3] as Record<string, unknown>).rpm;
    expect((await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: missing })).body).toMatchObject({ details: { point_index: 3, field: 'rpm' } });
    expect((await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: [] })).status).toBe(400);
    expect((await api('POST', `/telemetry/sessions/${id}/data`, alice, { points: points(0, 2) })).status).toBe(400);
    expect((await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(0, 10_001) })).status).toBe(400);
    expect((await system.services.store.readStream(`session-${id}`)).map((e) => e.type)).toEqual(['SessionCreated']);
  });

  it('answers 422 for timestamps out of order, in the batch or before the last recorded point', async () => {
    const id = await createSession(system.url, alice);
    const swapped = points(0, 10);
    swapped[6] = point(4);
    const res = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: swapped });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ status_code: 422, error_type: 'UnprocessableError', details: { point_index: 6, field: 'timestamp' } });
    expect((await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(0, 10) })).status).toBe(201);
    const overlap = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(9, 10) });
    expect(overlap.status).toBe(422);
    expect(String(overlap.body.detail)).toContain('not after the last point already recorded');
    expect((await system.services.store.readStream(`session-${id}`)).filter((e) => e.type === 'TelemetryBatchRecorded')).toHaveLength(1);
  });

  it('is idempotent on the client batch id (body batch_id or Idempotency-Key header)', async () => {
    const id = await createSession(system.url, alice);
    const first = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(0, 30), batch_id: 'b-1' });
    expect(first.body).toMatchObject({ points_created: 30, batch_id: 'b-1', replayed: false });
    const retry = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(0, 30), batch_id: 'b-1' });
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ points_created: 30, batch_id: 'b-1', replayed: true });
    const reused = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(30, 5), batch_id: 'b-1' });
    expect(reused.status).toBe(409);

    const byHeader = () => api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(40, 10) }, { 'idempotency-key': 'k-2' });
    expect((await byHeader()).body).toMatchObject({ points_created: 10, batch_id: 'k-2', replayed: false });
    expect((await byHeader()).body).toMatchObject({ points_created: 10, replayed: true });
    const mismatch = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(60, 1), batch_id: 'a' }, { 'idempotency-key': 'b' });
    expect(mismatch.status).toBe(400);

    expect((await system.services.store.readStream(`session-${id}`)).filter((e) => e.type === 'TelemetryBatchRecorded')).toHaveLength(2);
    expect((await api('GET', `/telemetry/sessions/${id}`, alice)).body.data_points).toBe(40);
    await analyticsCaughtUp(system.services.analytics, id, { points: 40, laps: 0 });
  });

  it('completes a session (idempotent); a complete session refuses new data with 400', async () => {
    const id = await createSession(system.url, alice);
    await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(0, 5), batch_id: 'x' });
    const done = await api('POST', `/telemetry/sessions/${id}/complete`, alice);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ id, is_complete: true });
    expect((await api('POST', `/telemetry/sessions/${id}/complete`, alice)).status).toBe(200);
    const late = await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(10, 5) });
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({ error_type: 'InvalidStateError' });
    expect((await api('POST', `/telemetry/sessions/${id}/data`, alice, { data_points: points(0, 5), batch_id: 'x' })).body).toMatchObject({ replayed: true });
    expect((await system.services.store.readStream(`session-${id}`)).map((e) => e.type)).toEqual(['SessionCreated', 'TelemetryBatchRecorded', 'SessionCompleted']);
  });
});

describe('analytics routes: shapes and errors', () => {
  it('answers the overview and consistency in the contract envelope, empty data included', async () => {
    const dave = await registerDriver(system.url, 'dave');
    const overview = await api('GET', '/analytics/performance/overview?period=weekly', dave);
    expect(overview.status).toBe(200);
    expect(overview.body).toEqual({
      status: 'success',
      data: {
        total_sessions: 0,
        total_laps: 0,
        valid_laps: 0,
        best_lap_time: null,
        average_lap_time: null,
        consistency_score: null,
        improvement_trend: 'insufficient_data',
        tracks_driven: 0,
        cars_used: 0,
        efficiency: null,
        period: 'weekly',
      },
    });
    expect((await api('GET', '/analytics/performance/overview?period=yearly', dave)).status).toBe(400);
    expect((await api('GET', '/analytics/performance/overview')).status).toBe(401);
    const consistency = await api('GET', '/analytics/consistency', dave);
    const noSector = { score: null, mean: null, std_deviation: null, laps_analyzed: 0 };
    expect(consistency.body).toMatchObject({ status: 'success', data: { consistency_score: null, total_laps_analyzed: 0 } });
    // The documented shape, with nulls: a client reading sector_consistency.sector_1.score gets null, not a TypeError.
    expect((consistency.body.data as Record<string, unknown>).sector_consistency).toEqual({ sector_1: noSector, sector_2: noSector, sector_3: noSector });
  });

  it('counts every session of the period in the overview, with laps or not', async () => {
    const erin = await registerDriver(system.url, 'erin');
    const monza = await createSession(system.url, erin, { track_name: 'Monza', car_model: 'Ferrari 488 GT3' });
    await createSession(system.url, erin, { track_name: 'Spa', car_model: 'Porsche 911 GT3 R' });
    await createSession(system.url, erin, { track_name: 'Spa', car_model: 'Ferrari 488 GT3' });
    // A few documented points: no lap, but the session is driven now.
    const now = Date.now();
    const driven = Array.from({ length: 5 }, (_, i) => ({ timestamp: new Date(now - 5000 + i * 100).toISOString(), speed_kmh: 100, throttle_input: 1, brake_input: 0, steering_input: 0, gear: 4, rpm: 7000 }));
    expect((await api('POST', `/telemetry/sessions/${monza}/data`, erin, { data_points: driven })).status).toBe(201);
    const overview = async (query: string) => (await api('GET', `/analytics/performance/overview?${query}`, erin)).body.data as Record<string, unknown>;
    expect(await overview('period=all_time')).toMatchObject({ total_sessions: 3, tracks_driven: 2, cars_used: 2, total_laps: 0 });
    expect(await overview('period=daily')).toMatchObject({ total_sessions: 3, tracks_driven: 2, cars_used: 2 });
    expect(await overview('period=weekly&track_name=Spa')).toMatchObject({ total_sessions: 2, tracks_driven: 1, cars_used: 2 });
    expect(await overview('car_model=Ferrari%20488%20GT3')).toMatchObject({ total_sessions: 2, tracks_driven: 2, cars_used: 1 });
  });

  it("guards sessions in consistency, compare and delta: 404 unknown, 403 someone else's, 422 different tracks", async () => {
    const mine = await createSession(system.url, alice, { track_name: 'Monza' });
    const elsewhere = await createSession(system.url, alice, { track_name: 'Spa' });
    const theirs = await createSession(system.url, bob, { track_name: 'Monza' });
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await api('GET', `/analytics/consistency?session_id=${theirs}`, alice)).status).toBe(403);
    expect((await api('GET', `/analytics/consistency?session_id=${unknown}`, alice)).status).toBe(404);
    expect((await api('GET', `/analytics/consistency?session_id=${mine}`, alice)).status).toBe(200);
    const compare = (primary: string, secondary: string, extra: Record<string, unknown> = {}) =>
      api('POST', '/analytics/compare/sessions', alice, { primary_session_id: primary, secondary_session_id: secondary, comparison_type: 'detailed', ...extra });
    expect((await compare(mine, theirs)).status).toBe(403);
    expect((await compare(mine, unknown)).status).toBe(404);
    expect((await compare(mine, elsewhere)).status).toBe(422);
    expect((await compare(mine, mine, { comparison_type: 'fancy' })).status).toBe(400);
    const same = await compare(mine, mine);
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ status: 'success', data: { overall_score: null, lap_time_delta: null, significance: 'none', recommendations: [] } });
    const delta = (a: string, b: string) => api('GET', `/analytics/laps/delta?session_a=${a}&lap_a=2&session_b=${b}&lap_b=3`, alice);
    expect((await delta(mine, theirs)).status).toBe(403);
    expect((await delta(mine, mine)).status).toBe(404);
    expect((await api('GET', `/analytics/laps/delta?session_a=${mine}&lap_a=0&session_b=${mine}&lap_b=1`, alice)).status).toBe(400);
  });

  it('validates leaderboard queries and answers an empty board', async () => {
    expect((await api('GET', '/analytics/leaderboard?car_model=X')).status).toBe(400);
    expect((await api('GET', '/analytics/leaderboard?track_name=X')).status).toBe(400);
    expect((await api('GET', '/analytics/leaderboard?track_name=X&car_model=Y&category=sector_4')).status).toBe(400);
    expect((await api('GET', '/analytics/leaderboard?track_name=X&car_model=Y&limit=1001')).status).toBe(400);
    const empty = await api('GET', '/analytics/leaderboard?track_name=Nowhere&car_model=Y&category=sector_2');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ status: 'success', data: { track: 'Nowhere', car: 'Y', category: 'sector_2', entries: [] } });
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = await http(system.url, 'GET', '/api/v1/openapi.json');
    const paths = doc.body.paths as Record<string, Record<string, unknown>>;
    for (const [path, method] of [
      ['/telemetry/sessions', 'get'],
      ['/telemetry/sessions', 'post'],
      ['/telemetry/sessions/{session_id}', 'get'],
      ['/telemetry/sessions/{session_id}/complete', 'post'],
      ['/telemetry/sessions/{session_id}/data', 'post'],
      ['/analytics/performance/overview', 'get'],
      ['/analytics/consistency', 'get'],
      ['/analytics/compare/sessions', 'post'],
      ['/analytics/laps/delta', 'get'],
      ['/analytics/leaderboard', 'get'],
    ] as const) {
      expect(paths[path]?.[method]).toBeDefined();
    }
    const upload = JSON.stringify(paths['/telemetry/sessions/{session_id}/data']!.post);
    expect(upload).toContain('speed_kmh');
    expect(upload).toContain('normalized_car_position');
  });
});
