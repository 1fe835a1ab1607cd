import { randomUUID } from 'node:crypto';
import { loadAggregate } from '../../../src/commands/handle-command';
import type { LapCompleted, TelemetrySessionEvent } from '../../../src/domain/racing/telemetry-session-events';
import { toNewEvent } from '../../../src/infrastructure/eventstore/event-decoding';
import type { JsonObject, NewEvent } from '../../../src/infrastructure/eventstore/event-store';
import { rebuildProjection } from '../../../src/projections/postgres/projection-rebuild';
import { waitForProjection } from '../../../src/projections/postgres/projection-runner';
import {
  LAP_TIMES_TABLE,
  LEADERBOARD_TABLE,
  LEADERBOARD_WITH_ESTIMATED_TABLE,
  racingLeaderboardProjection,
} from '../../../src/projections/postgres/racing/racing-leaderboard-projection';
import { TELEMETRY_SESSIONS_TABLE, telemetrySessionsProjection } from '../../../src/projections/postgres/racing/telemetry-sessions-projection';
import { PROJECTION_QUARANTINE_TABLE } from '../../../src/projections/projection-quarantine';
import { startTestSystem, type TestSystem } from '../../support/test-system';

/**
 * Events stored under an older schema version are read as the current one, by the read models, by
 * a replay and by a decider loading its stream (docs/event-versioning.md). LapCompleted is at
 * version 2 (`estimated` always written); version 1 events, as stored before versions existed,
 * carry neither `estimated` nor a version in their metadata.
 */
let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({ analytics: false, roles: { api: false } });
});
afterAll(async () => {
  await system?.stop();
});

const TRACK = `versioning-${randomUUID().slice(0, 8)}`;
const CAR = 'GT3';

function lap(context: { sessionId: string; ownerId: string }, lapNumber: number, lapTimeMs: number): JsonObject {
  return {
    ...context,
    trackName: TRACK,
    carModel: CAR,
    lapNumber,
    lapTimeMs,
    sectorTimesMs: [lapTimeMs / 2, lapTimeMs / 2],
    valid: true,
    invalidReasons: [],
    invalidDetails: [],
    isVerified: true,
    startedAtMs: lapNumber * 100_000,
    endedAtMs: lapNumber * 100_000 + lapTimeMs,
    sampleCount: 500,
    maxSpeedKmh: 280,
    meanSpeedKmh: 190,
    distanceM: 5_000,
    fullThrottleFraction: 0.6,
    brakingFraction: 0.2,
    coastingFraction: 0.2,
  };
}

function sessionCreated(context: { sessionId: string; ownerId: string }): JsonObject {
  return {
    ...context,
    trackName: TRACK,
    carModel: CAR,
    sessionName: 'versioning',
    weatherConditions: null,
    trackTemperatureC: null,
    airTemperatureC: null,
    trackLengthM: null,
    createdAt: '2026-05-01T10:00:00.000Z',
  };
}

async function tableRows(table: string, where: Record<string, string>, orderBy: string[]) {
  return system.services.db(table).where(where).select('*').orderBy(orderBy);
}

async function readModels() {
  return {
    sessions: await tableRows(TELEMETRY_SESSIONS_TABLE, { track_name: TRACK }, ['id']),
    laps: await tableRows(LAP_TIMES_TABLE, { track_name: TRACK }, ['session_id', 'lap_number']),
    board: await tableRows(LEADERBOARD_TABLE, { track_name: TRACK }, ['category', 'user_id']),
    boardWithEstimated: await tableRows(LEADERBOARD_WITH_ESTIMATED_TABLE, { track_name: TRACK }, ['category', 'user_id']),
  };
}

describe('event versioning: v1 events read as the current version', () => {
  it('builds the read models, replays to the same rows, and folds in the decider', async () => {
    const { store, db } = system.services;
    // Driver A's session, stored by a release before versions: LapCompleted v1, no schemaVersion.
    const a = { sessionId: randomUUID(), ownerId: randomUUID() };
    const v1: NewEvent[] = [
      { type: 'SessionCreated', data: sessionCreated(a) },
      { type: 'LapCompleted', data: lap(a, 1, 92_000) },
      { type: 'LapCompleted', data: lap(a, 2, 90_500) },
    ];
    await store.append(`session-${a.sessionId}`, v1, { expectedRevision: 'no_stream' });
    // Driver B's session, written now: current versions, one estimated lap faster than A's.
    const b = { sessionId: randomUUID(), ownerId: randomUUID() };
    const current = [
      toNewEvent({ type: 'SessionCreated', data: sessionCreated(b) }),
      toNewEvent({ type: 'LapCompleted', data: { ...lap(b, 1, 89_000), isVerified: false, estimated: true } }),
    ];
    expect(current[1].metadata).toEqual({ schemaVersion: 2 });
    await store.append(`session-${b.sessionId}`, current, { expectedRevision: 'no_stream' });

    for (const projection of [telemetrySessionsProjection, racingLeaderboardProjection]) {
      expect(await waitForProjection(db, projection.name, `session-${a.sessionId}`, 2n, { timeoutMs: 60_000 })).toBe(true);
      expect(await waitForProjection(db, projection.name, `session-${b.sessionId}`, 1n, { timeoutMs: 60_000 })).toBe(true);
    }
    expect(await db(PROJECTION_QUARANTINE_TABLE).whereIn('stream_id', [`session-${a.sessionId}`, `session-${b.sessionId}`])).toEqual([]);

    const live = await readModels();
    // The v1 laps were measured (the upcaster's `estimated: false`): they count on the verified board.
    expect(live.laps.map((row) => [row.session_id, row.lap_number, row.estimated])).toEqual(
      [
        [a.sessionId, 1, false],
        [a.sessionId, 2, false],
        [b.sessionId, 1, true],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0])) || Number(x[1]) - Number(y[1])),
    );
    expect(live.sessions.find((row) => row.id === a.sessionId)).toMatchObject({ total_laps: 2, valid_laps: 2, best_lap_time_ms: 90_500 });
    expect(new Set(live.board.map((row) => row.user_id))).toEqual(new Set([a.ownerId]));
    expect(new Set(live.boardWithEstimated.map((row) => row.user_id))).toEqual(new Set([a.ownerId, b.ownerId]));

    // A replay reads the same history (both versions) into the same rows.
    for (const projection of [telemetrySessionsProjection, racingLeaderboardProjection]) {
      const result = await rebuildProjection(db, store, projection, { logger: system.services.logger });
      expect(result).toMatchObject({ quarantined: [] });
    }
    expect(await readModels()).toEqual(live);

    // A decider loading the stream sees v1 laps upcast too.
    const folded = await loadAggregate<LapCompleted['data'][], TelemetrySessionEvent>(store, `session-${a.sessionId}`, {
      initialState: () => [],
      evolve: (laps, event) => (event.type === 'LapCompleted' ? [...laps, event.data] : laps),
    });
    expect(folded.state.map((data) => [data.lapNumber, data.estimated])).toEqual([
      [1, false],
      [2, false],
    ]);
  });
});
