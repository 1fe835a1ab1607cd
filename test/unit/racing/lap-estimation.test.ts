import { withDistance } from '../../../src/domain/racing/distance-trace';
import type { LapCompleted } from '../../../src/domain/racing/lap-events';
import { estimateLapBoundaries, type EstimatedLapBounds } from '../../../src/domain/racing/lap-estimation';
import { DEFAULT_LAP_ESTIMATOR_CONFIG } from '../../../src/domain/racing/lap-estimator-config';
import { telemetrySessionDecider, type TelemetrySessionCommand, type TelemetrySessionEvent } from '../../../src/domain/racing/telemetry-session';
import { validateTelemetryBatch, type TelemetryPointJson } from '../../../src/domain/racing/telemetry-point';
import { documentedPoints } from '../../fixtures/telemetry/documented-fields';
import { seededRandom } from '../../fixtures/telemetry/seeded-random';
import { generateSession, type GeneratedSession } from '../../fixtures/telemetry/trace-generator';

/**
 * Laps from the seven documented channels only (docs/telemetry.md, "Laps without positions"). The
 * generator's positions are withheld from the estimator and used here as the ground truth: the
 * true time between two passes of the track point where the estimator put the line.
 */

const epochMs = (timestamp: string | number) => (typeof timestamp === 'number' ? timestamp : Date.parse(timestamp));

/** Seconds at which the car (full generated points) passed global position `lap + phase`, for every lap. */
function truePasses(points: readonly TelemetryPointJson[], phase: number): number[] {
  const passes: number[] = [];
  const global = (p: TelemetryPointJson) => (p.completed_laps ?? 0) + (p.normalized_car_position ?? 0);
  for (let i = 1; i < points.length; i += 1) {
    const a = global(points[i - 1]!);
    const b = global(points[i]!);
    for (let k = Math.ceil(a - phase); k + phase <= b; k += 1) {
      const target = k + phase;
      if (target <= a || b <= a) continue;
      const ta = epochMs(points[i - 1]!.timestamp);
      const tb = epochMs(points[i]!.timestamp);
      passes.push(ta + ((target - a) / (b - a)) * (tb - ta));
    }
  }
  return passes;
}

/** Global position (laps + fraction) of the car at `ms`, from the full generated points. */
function positionAt(points: readonly TelemetryPointJson[], ms: number): number {
  const i = points.findIndex((p) => epochMs(p.timestamp) >= ms);
  const a = points[i - 1]!;
  const b = points[i]!;
  const ga = (a.completed_laps ?? 0) + (a.normalized_car_position ?? 0);
  let gb = (b.completed_laps ?? 0) + (b.normalized_car_position ?? 0);
  if (gb < ga) gb += 1;
  return ga + ((ms - epochMs(a.timestamp)) / (epochMs(b.timestamp) - epochMs(a.timestamp))) * (gb - ga);
}

/** For each full estimated lap, the true lap time measured at the same point of the track. */
function samePointTruthMs(session: GeneratedSession, laps: ReadonlyArray<{ startMs: number; endMs: number }>): number[] {
  const phase = positionAt(session.points, laps[0]!.startMs) % 1;
  const passes = truePasses(session.points, phase);
  return laps.map((lap) => {
    const start = passes.reduce((best, at) => (Math.abs(at - lap.startMs) < Math.abs(best - lap.startMs) ? at : best));
    const next = passes[passes.indexOf(start) + 1]!;
    return next - start;
  });
}

function traceOf(points: readonly TelemetryPointJson[]) {
  return withDistance({
    timestampMs: points.map((p) => epochMs(p.timestamp)),
    speedKmh: points.map((p) => p.speed_kmh),
    throttleInput: points.map((p) => p.throttle_input),
    brakeInput: points.map((p) => p.brake_input),
  });
}

// Out of the pit box, 8 timed laps, a 25 s pit stop at the end of lap 4, noisy sensors, 20 Hz.
const session = generateSession({ seed: 11, laps: 8, hz: 20, start: 'pit', pitStopOnLap: 4 });
const noisy = documentedPoints(session.points, { seed: 5, speedNoiseKmh: 1.5, pedalNoise: 0.02 });
const stopMs = (() => {
  const stopped = session.points.filter((p) => p.is_in_pit === true && (p.completed_laps ?? 0) >= 3);
  return epochMs(stopped[Math.floor(stopped.length / 2)]!.timestamp);
})();

describe('lap estimation from speed, throttle and brake only', () => {
  const estimated = estimateLapBoundaries(traceOf(noisy), [], true, DEFAULT_LAP_ESTIMATOR_CONFIG, null);

  it('finds the lap length from the periodicity, within 1 % of the track', () => {
    expect(estimated.lapDistanceM).not.toBeNull();
    expect(Math.abs(estimated.lapDistanceM! - session.trackLengthM) / session.trackLengthM).toBeLessThan(0.01);
  });

  it('counts exactly the laps driven: the partial out-lap and the eight timed laps', () => {
    expect(estimated.laps).toHaveLength(session.laps.length);
    expect(estimated.laps[0]!.partial).toBe(true);
    expect(estimated.laps.slice(1).every((lap) => !lap.partial)).toBe(true);
  });

  it('times every full lap within 1 % of the true time at the same track point, pit lap included', () => {
    const full = estimated.laps.slice(1);
    const truth = samePointTruthMs(session, full);
    full.forEach((lap, i) => {
      expect(Math.abs(lap.endMs - lap.startMs - truth[i]!) / truth[i]!).toBeLessThan(0.01);
    });
  });

  it('puts the boundaries on one spot of the track every lap', () => {
    const phases = estimated.laps.slice(1).map((lap) => positionAt(session.points, lap.startMs) % 1);
    const spread = Math.max(...phases) - Math.min(...phases);
    expect(spread * session.trackLengthM).toBeLessThan(20);
  });

  it('keeps the clean laps within 1 % of the line-to-line truth', () => {
    const cleanTruth = session.laps.filter((lap) => lap.expectedReasons.length === 0).map((lap) => lap.lapTimeMs);
    const fullTimes = estimated.laps.slice(1).filter((lap) => !(lap.startMs <= stopMs && stopMs <= lap.endMs)).map((lap) => lap.endMs - lap.startMs);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    expect(Math.abs(median(fullTimes) - median(cleanTruth)) / median(cleanTruth)).toBeLessThan(0.01);
  });

  it('confirms the lap with a known track length, and refuses a length the data does not repeat with', () => {
    const confirmed = estimateLapBoundaries(traceOf(noisy), [], true, DEFAULT_LAP_ESTIMATOR_CONFIG, session.trackLengthM);
    expect(confirmed.laps.map((lap) => lap.endMs)).toEqual(estimated.laps.map((lap) => lap.endMs));
    const wrong = estimateLapBoundaries(traceOf(noisy), [], true, DEFAULT_LAP_ESTIMATOR_CONFIG, session.trackLengthM * 1.6);
    expect(wrong.laps).toEqual([]);
  });

  it('finds no laps in driving that does not repeat', () => {
    const random = seededRandom(3);
    let speed = 100;
    const points = Array.from({ length: 20 * 600 }, (_, i) => {
      speed = Math.min(280, Math.max(20, speed + random.normal() * 3));
      return { timestamp: Date.UTC(2024, 0, 15) + i * 50, speed_kmh: speed, throttle_input: random.next(), brake_input: random.next() * 0.2, steering_input: 0, gear: 3, rpm: 5000 };
    });
    expect(estimateLapBoundaries(traceOf(points), [], true, DEFAULT_LAP_ESTIMATOR_CONFIG, null).laps).toEqual([]);
  });
});

describe('estimated laps in the TelemetrySession aggregate', () => {
  const context = { sessionId: 's1', ownerId: 'u1', trackName: 'Generated Ring', carModel: 'GT3' };
  const created: TelemetrySessionEvent = {
    type: 'SessionCreated',
    data: { ...context, sessionName: 'Docs only', weatherConditions: null, trackTemperatureC: null, airTemperatureC: null, trackLengthM: null, createdAt: '2026-01-01T00:00:00.000Z' },
  };
  const { evolve, decide, initialState } = telemetrySessionDecider;

  /** Uploads `points` in batches of `size`, then completes the session; returns every event. */
  function drive(points: readonly unknown[], size: number): TelemetrySessionEvent[] {
    const events: TelemetrySessionEvent[] = [created];
    let state = evolve(initialState(), created);
    const apply = (command: TelemetrySessionCommand) => {
      const decided = decide(command, state);
      events.push(...decided);
      state = decided.reduce(evolve, state);
    };
    for (let from = 0; from < points.length; from += size) {
      const validated = validateTelemetryBatch(points.slice(from, from + size), { maxPoints: 1_000_000 });
      if (!validated.ok) throw validated.error;
      apply({ type: 'RecordTelemetryBatch', sessionId: 's1', userId: 'u1', batchId: `b${from}`, fingerprint: `f${from}`, columns: validated.batch, now: '2026-01-01T00:00:00.000Z' });
    }
    apply({ type: 'CompleteSession', sessionId: 's1', userId: 'u1', now: '2026-01-01T01:00:00.000Z' });
    return events;
  }
  const lapsOf = (events: TelemetrySessionEvent[]) => events.flatMap((event) => (event.type === 'LapCompleted' ? [event.data] : []));
  const byUpload = drive(noisy, 400);
  const laps = lapsOf(byUpload);

  it('emits the laps while the data arrives, and the last one at completion', () => {
    expect(laps).toHaveLength(session.laps.length);
    const completion = byUpload.findIndex((event) => event.type === 'SessionCompleted');
    const lapsBeforeCompletion = lapsOf(byUpload.slice(0, completion - 1)).length;
    expect(lapsBeforeCompletion).toBeGreaterThanOrEqual(session.laps.length - 1);
    expect(laps.map((lap) => lap.lapNumber)).toEqual(session.laps.map((lap) => lap.lapNumber));
  });

  it('marks the laps estimated, never verified; the out-lap incomplete and pit, the stop lap pit', () => {
    expect(laps.every((lap) => lap.estimated && !lap.isVerified)).toBe(true);
    expect(laps[0]!.invalidReasons).toEqual(['pit', 'incomplete']);
    const stopLap = laps.find((lap) => lap.startedAtMs <= stopMs && stopMs <= lap.endedAtMs)!;
    expect(stopLap.invalidReasons).toContain('pit');
    const valid = laps.filter((lap) => lap.valid);
    expect(valid.length).toBe(session.laps.length - 2);
    for (const lap of valid) {
      expect(lap.sectorTimesMs.every((sector) => sector !== null && sector > 0)).toBe(true);
      expect(lap.sectorTimesMs.reduce<number>((sum, sector) => sum + sector!, 0)).toBe(lap.lapTimeMs);
    }
  });

  it('times the laps within 1 % of the truth at the same track point', () => {
    const full = laps.slice(1).map((lap) => ({ startMs: lap.startedAtMs, endMs: lap.endedAtMs }));
    const truth = samePointTruthMs(session, full);
    full.forEach((lap, i) => expect(Math.abs(lap.endMs - lap.startMs - truth[i]!) / truth[i]!).toBeLessThan(0.01));
  });

  it('gives the same laps however the points were cut into uploads', () => {
    const strip = (lap: LapCompleted) => ({ ...lap });
    expect(lapsOf(drive(noisy, 1777)).map(strip)).toEqual(laps.map(strip));
    expect(lapsOf(drive(noisy, noisy.length)).map(strip)).toEqual(laps.map(strip));
  });

  it('replays to the same state: folding the events gives what deciding them gave', () => {
    const folded = byUpload.reduce(evolve, initialState());
    expect(folded.status).toBe('completed');
    if (folded.status !== 'none') {
      expect(folded.lapCount).toBe(laps.length);
      expect(folded.lapSource).toBe('estimator');
    }
  });

  it('leaves sessions with positions to the detector', () => {
    const events = drive(session.points.slice(0, 6000), 1000);
    expect(lapsOf(events).length).toBeGreaterThan(0);
    expect(lapsOf(events).every((lap) => !lap.estimated)).toBe(true);
  });
});

export type { EstimatedLapBounds };
