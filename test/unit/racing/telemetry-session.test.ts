import { detectLaps, initialLapDetectorState } from '../../../src/domain/racing/lap-detection';
import { batchFingerprint, legacyBatchFingerprint } from '../../../src/domain/racing/telemetry-batch-fingerprint';
import {
  REMEMBERED_BATCH_IDS,
  sessionDetectorConfig,
  telemetrySessionDecider,
  type TelemetrySessionCommand,
  type TelemetrySessionEvent,
} from '../../../src/domain/racing/telemetry-session';
import { ConflictError, ForbiddenError, InvalidStateError, NotFoundError, UnprocessableError } from '../../../src/domain/shared/errors';
import { deciderSpec } from '../../support/decider-spec';
import { columns, lapping } from './hand-built-trace';

const spec = deciderSpec(telemetrySessionDecider);
const NOW = '2026-01-02T03:04:05.000Z';
const context = { sessionId: 's1', ownerId: 'u1', trackName: 'Monza', carModel: 'Ferrari 488 GT3' };
const created: TelemetrySessionEvent = {
  type: 'SessionCreated',
  data: {
    ...context,
    sessionName: 'Practice',
    weatherConditions: 'Clear',
    trackTemperatureC: 25.5,
    airTemperatureC: 20,
    trackLengthM: 4000,
    createdAt: NOW,
  },
};

// 2.6 laps of 60 s at 20 Hz from 0.9 of the lap: crossings at 6 s, 66 s, 126 s.
const trace = lapping({ lapTimeMs: 60_000, startPosition: 0.9, durationMs: 150_000, intervalMs: 50, trackLengthM: 4000, firstOffsetMs: 7 });
const firstHalf = columns(trace.slice(0, 1500)); // ends mid lap 2 (75 s)
const secondHalf = columns(trace.slice(1500));

const record = (batchId: string, batch = firstHalf, userId = 'u1', fingerprint = `fp-${batchId}`): TelemetrySessionCommand => ({
  type: 'RecordTelemetryBatch',
  sessionId: 's1',
  userId,
  batchId,
  fingerprint,
  columns: batch,
  now: NOW,
});
const decide = (events: TelemetrySessionEvent[], command: TelemetrySessionCommand) =>
  telemetrySessionDecider.decide(command, events.reduce(telemetrySessionDecider.evolve, telemetrySessionDecider.initialState()));

describe('TelemetrySession decider', () => {
  it('creates a session once', () => {
    const command: TelemetrySessionCommand = {
      type: 'CreateSession',
      ...context,
      sessionName: 'Practice',
      weatherConditions: 'Clear',
      trackTemperatureC: 25.5,
      airTemperatureC: 20,
      trackLengthM: 4000,
      now: NOW,
    };
    spec.given([]).when(command).then([created]);
    spec.given([created]).when(command).thenThrows(ConflictError);
  });

  it('records a batch with the laps and sectors it completes, in time order, in one decision', () => {
    const events = decide([created], record('b1'));
    // 75 s from 0.9 of a 60 s lap: the partial lap 1 ends at 6 s; lap 2's splits at 26, 46 and 66 s, where it ends.
    expect(events.map((e) => e.type)).toEqual(['TelemetryBatchRecorded', 'LapCompleted', 'SectorCompleted', 'SectorCompleted', 'SectorCompleted', 'LapCompleted']);
    const [batch, partial, sector1, , sector3, lap2] = events;
    expect(batch!.data).toMatchObject({ ...context, batchId: 'b1', fingerprint: 'fp-b1', pointCount: 1500, recordedAt: NOW, columns: firstHalf });
    expect(partial!.data).toMatchObject({ ...context, lapNumber: 1, valid: false, invalidReasons: ['incomplete'] });
    expect(sector1!.data).toMatchObject({ ...context, lapNumber: 2, sectorNumber: 1, sectorTimeMs: 20_000 });
    expect(sector3!.data).toMatchObject({ ...context, lapNumber: 2, sectorNumber: 3, sectorTimeMs: 20_000 });
    expect(lap2!.data).toMatchObject({ ...context, lapNumber: 2, lapTimeMs: 60_000, valid: true, sectorTimesMs: [20_000, 20_000, 20_000] });
  });

  it('detects laps across batch boundaries exactly as in one batch', () => {
    const first = decide([created], record('b1'));
    const second = decide([created, ...first], record('b2', secondHalf));
    const laps = [...first, ...second].filter((e) => e.type === 'LapCompleted').map((e) => e.data);
    const whole = detectLaps(initialLapDetectorState(), columns(trace), sessionDetectorConfig(4000)).laps;
    expect(laps).toEqual(whole.map((lap) => ({ ...context, ...lap })));
    expect(whole.map((lap) => lap.lapNumber)).toEqual([1, 2, 3]);
    expect(whole[1]!.lapTimeMs).toBe(60_000);
    // The last sector's split comes right before the lap it closes, the next lap's first split after it.
    expect(second.map((e) => e.type)).toEqual(['TelemetryBatchRecorded', 'SectorCompleted', 'SectorCompleted', 'SectorCompleted', 'LapCompleted', 'SectorCompleted']);
  });

  it('records nothing for a retried batch id with the same points, and refuses one with other points', () => {
    const first = decide([created], record('b1'));
    spec.given([created, ...first]).when(record('b1')).then([]);
    spec.given([created, ...first]).when(record('b1', secondHalf, 'u1', 'other')).thenThrows(ConflictError, /already used/);
  });

  it('recognises a retry of a batch recorded with the fingerprint of before (JSON of the columns), and still refuses other points', () => {
    const recordedBefore = decide([created], record('b1', firstHalf, 'u1', legacyBatchFingerprint(firstHalf)));
    expect(batchFingerprint(firstHalf)).not.toBe(legacyBatchFingerprint(firstHalf));
    spec.given([created, ...recordedBefore]).when(record('b1', firstHalf, 'u1', batchFingerprint(firstHalf))).then([]);
    const otherPoints = columns(trace.slice(0, 1499));
    spec.given([created, ...recordedBefore]).when(record('b1', otherPoints, 'u1', batchFingerprint(otherPoints))).thenThrows(ConflictError, /already used/);
  });

  it('fingerprints the points, not the columns object: same points, same fingerprint; one value changed, another', () => {
    const again = columns(trace.slice(0, 1500));
    expect(batchFingerprint(again)).toBe(batchFingerprint(firstHalf));
    expect(batchFingerprint(firstHalf)).toMatch(/^packed-sha256:[0-9a-f]{64}$/);
    const changed = columns(trace.slice(0, 1500));
    changed.speedKmh = changed.speedKmh.map((value, i) => (i === 700 ? value + 1e-9 : value));
    expect(batchFingerprint(changed)).not.toBe(batchFingerprint(firstHalf));
  });

  it('refuses points not after the last recorded one (422), naming the first point', () => {
    const first = decide([created], record('b1'));
    spec.given([created, ...first]).when(record('b2', firstHalf)).thenThrows(UnprocessableError, /data_points\.0\.timestamp/);
  });

  it("answers 404 for a missing session and 403 for someone else's", () => {
    spec.given([]).when(record('b1')).thenThrows(NotFoundError);
    spec.given([created]).when(record('b1', firstHalf, 'intruder')).thenThrows(ForbiddenError);
    spec.given([created]).when({ type: 'CompleteSession', sessionId: 's1', userId: 'intruder', now: NOW }).thenThrows(ForbiddenError);
  });

  it('completes once; a complete session takes no new data but still answers retries', () => {
    const completed: TelemetrySessionEvent = { type: 'SessionCompleted', data: { ...context, completedAt: NOW } };
    spec.given([created]).when({ type: 'CompleteSession', sessionId: 's1', userId: 'u1', now: NOW }).then([completed]);
    spec.given([created, completed]).when({ type: 'CompleteSession', sessionId: 's1', userId: 'u1', now: NOW }).then([]);
    spec.given([created, completed]).when(record('b1')).thenThrows(InvalidStateError);
    const first = decide([created], record('b1'));
    spec.given([created, ...first, completed]).when(record('b1')).then([]);
  });

  it('remembers a bounded number of batch ids, keeping its state small', () => {
    let state = [created].reduce(telemetrySessionDecider.evolve, telemetrySessionDecider.initialState());
    for (let i = 0; i < REMEMBERED_BATCH_IDS + 5; i += 1) {
      const batch = columns([{ ...trace[0]!, timestampMs: trace[0]!.timestampMs + i }]);
      state = telemetrySessionDecider.evolve(state, {
        type: 'TelemetryBatchRecorded',
        data: { ...context, batchId: `b${i}`, fingerprint: 'f', pointCount: 1, firstTimestampMs: batch.timestampMs[0]!, lastTimestampMs: batch.timestampMs[0]!, recordedAt: NOW, columns: batch },
      });
    }
    if (state.status === 'none') throw new Error('expected a session');
    expect(state.recentBatches).toHaveLength(REMEMBERED_BATCH_IDS);
    expect(state.recentBatches[0]!.batchId).toBe('b5');
    expect(state.pointCount).toBe(REMEMBERED_BATCH_IDS + 5);
  });
});
