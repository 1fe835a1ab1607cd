import { detectLaps, initialLapDetectorState } from '../../../src/domain/racing/lap-detection';
import { lapDetectorConfig } from '../../../src/domain/racing/lap-detector-config';
import type { LapCompleted } from '../../../src/domain/racing/lap-events';
import type { TelemetryBatchColumns } from '../../../src/domain/racing/telemetry-batch';
import { validateTelemetryBatch } from '../../../src/domain/racing/telemetry-point';
import { generateSession, type GeneratedSession, type SessionOptions } from '../../fixtures/telemetry/trace-generator';

/** The generator's simulation is the ground truth the detector has to reproduce from the samples. */

const batches = new WeakMap<GeneratedSession, TelemetryBatchColumns>();

function detect(session: GeneratedSession, overrides: Parameters<typeof lapDetectorConfig>[0] = {}): LapCompleted[] {
  let batch = batches.get(session);
  if (batch === undefined) {
    const validated = validateTelemetryBatch(session.points, { maxPoints: Number.MAX_SAFE_INTEGER });
    if (!validated.ok) throw validated.error;
    batch = validated.batch;
    batches.set(session, batch);
  }
  return detectLaps(initialLapDetectorState(), batch, lapDetectorConfig({ trackLengthM: session.trackLengthM, ...overrides })).laps;
}

describe('lap detection on a generated session', () => {
  const options: SessionOptions = { seed: 7, laps: 8, hz: 50, pitStopOnLap: 5, cutOnLap: 3, gap: { onLap: 7, atPosition: 0.5, durationMs: 3000 } };
  const session = generateSession(options);

  it('produces valid upload points', () => {
    const validated = validateTelemetryBatch(session.points, { maxPoints: 100_000 });
    expect(validated.ok).toBe(true);
    expect(session.points.length).toBeGreaterThan(9 * 80 * 50 * 0.9);
  });

  it('finds exactly the generated laps, timed within 2 ms of the simulation', () => {
    const laps = detect(session);
    expect(laps.map((lap) => lap.lapNumber)).toEqual(session.laps.map((lap) => lap.lapNumber));
    for (const [i, lap] of laps.entries()) {
      const truth = session.laps[i]!;
      expect(Math.abs(lap.lapTimeMs - truth.lapTimeMs)).toBeLessThanOrEqual(2);
      expect(Math.abs(lap.startedAtMs - truth.startedAtMs)).toBeLessThanOrEqual(2);
    }
  });

  it('gives each lap the validity the scenario implies', () => {
    const laps = detect(session);
    expect(laps.map((lap) => lap.invalidReasons)).toEqual(session.laps.map((lap) => lap.expectedReasons));
    const clean = laps.filter((lap) => lap.invalidReasons.length === 0);
    expect(clean.map((lap) => lap.lapNumber)).toEqual([2, 4, 8, 9]);
    expect(clean.every((lap) => lap.isVerified)).toBe(true);
  });

  it('times sectors within 2 ms on configured thirds, within one sample interval on the sim sector index', () => {
    const byPosition = detect(session, { sectorSource: 'position' });
    const bySimIndex = detect(session);
    // Each sim split is within half a sample interval, so a sector between two of them is within one
    // interval; plus rounding of the two instants.
    const sampleIntervalMs = 1000 / 50;
    for (const [i, truth] of session.laps.entries()) {
      truth.sectorTimesMs.forEach((truthMs, sector) => {
        if (truthMs === null) {
          expect(byPosition[i]!.sectorTimesMs[sector]).toBeNull();
          return;
        }
        expect(Math.abs(byPosition[i]!.sectorTimesMs[sector]! - truthMs)).toBeLessThanOrEqual(2);
        expect(Math.abs(bySimIndex[i]!.sectorTimesMs[sector]! - truthMs)).toBeLessThanOrEqual(sampleIntervalMs + 2);
      });
    }
  });

  it('lap times vary from lap to lap like a real driver (about ±0.5 %)', () => {
    const clean = session.laps.filter((lap) => lap.expectedReasons.length === 0).map((lap) => lap.lapTimeMs);
    const mean = clean.reduce((sum, t) => sum + t, 0) / clean.length;
    const spread = (Math.max(...clean) - Math.min(...clean)) / mean;
    expect(spread).toBeGreaterThan(0.001);
    expect(spread).toBeLessThan(0.02);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateSession(options).points).toEqual(session.points);
    expect(generateSession({ ...options, seed: 8 }).laps[2]!.lapTimeMs).not.toBeCloseTo(session.laps[2]!.lapTimeMs, 0);
  });

  it.each([20, 60])('works at %i Hz with a rolling start', (hz) => {
    const rolling = generateSession({ seed: 3, laps: 3, hz, start: 'rolling', timestampFormat: 'epoch_ms' });
    const laps = detect(rolling);
    expect(laps).toHaveLength(4);
    expect(laps[0]!.invalidReasons).toEqual(['incomplete']);
    for (const [i, lap] of laps.entries()) expect(Math.abs(lap.lapTimeMs - rolling.laps[i]!.lapTimeMs)).toBeLessThanOrEqual(2);
    expect(laps.slice(1).every((lap) => lap.valid && lap.isVerified)).toBe(true);
  });
});
