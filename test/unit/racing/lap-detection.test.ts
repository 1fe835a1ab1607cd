import { detectLaps, initialLapDetectorState, type LapDetection, type LapDetectorState } from '../../../src/domain/racing/lap-detection';
import { lapDetectorConfig, type LapDetectorConfig } from '../../../src/domain/racing/lap-detector-config';
import { LapCompletedDataSchema, type LapCompleted, type SectorSplit } from '../../../src/domain/racing/lap-events';
import type { TelemetrySample } from '../../../src/domain/racing/telemetry-batch';
import { columns, lapping, sample, T0 } from './hand-built-trace';

const LAP_MS = 60_000;

function run(samples: TelemetrySample[], config: LapDetectorConfig = lapDetectorConfig(), state: LapDetectorState = initialLapDetectorState()): LapDetection {
  return detectLaps(state, columns(samples), config);
}

/** Feeds the trace in the given batch sizes, carrying the state between batches. */
function runInBatches(samples: TelemetrySample[], cuts: number[], config = lapDetectorConfig()): { laps: LapCompleted[]; sectors: SectorSplit[] } {
  let state = initialLapDetectorState();
  const laps: LapCompleted[] = [];
  const sectors: SectorSplit[] = [];
  const bounds = [0, ...cuts, samples.length];
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const part = samples.slice(bounds[i], bounds[i + 1]);
    if (part.length === 0) continue;
    // The state round-trips through JSON as it would through an event store snapshot.
    const result = detectLaps(JSON.parse(JSON.stringify(state)) as LapDetectorState, columns(part), config);
    state = result.state;
    laps.push(...result.laps);
    sectors.push(...result.sectors);
  }
  return { laps, sectors };
}

describe('lap detection from the normalized position', () => {
  // Crossings at 5,926.2 ms + k * 60 s after the first point: never on a point.
  const trace = lapping({ lapTimeMs: LAP_MS, startPosition: 0.90123, durationMs: 200_000, intervalMs: 100, firstOffsetMs: 37 });

  it('detects each wrap from ~1 to ~0 as a lap, timing the crossing by interpolation', () => {
    const { laps } = run(trace);
    expect(laps.map((lap) => lap.lapNumber)).toEqual([1, 2, 3, 4]);
    expect(laps[0]!.lapTimeMs).toBe(5926);
    expect(laps[0]!.startedAtMs).toBe(T0 + 37);
    for (const lap of laps.slice(1)) {
      expect(Math.abs(lap.lapTimeMs - LAP_MS)).toBeLessThanOrEqual(1);
      expect(lap.valid).toBe(true);
      expect(lap.invalidReasons).toEqual([]);
    }
    expect(laps[1]!.startedAtMs).toBe(T0 + 37 + 5926);
    for (const lap of laps) expect(LapCompletedDataSchema.parse(lap)).toEqual(lap);
  });

  it('splits sectors at thirds of the lap and the sectors sum to the lap time', () => {
    const { laps, sectors } = run(trace);
    for (const lap of laps.slice(1)) {
      for (const sectorMs of lap.sectorTimesMs) expect(Math.abs(sectorMs! - LAP_MS / 3)).toBeLessThanOrEqual(1);
      expect(lap.sectorTimesMs.reduce((sum, time) => sum! + time!, 0)).toBe(lap.lapTimeMs);
    }
    // The opening lap started at 0.90 (in sector 3): none of its sectors was timed in full.
    expect(laps[0]!.sectorTimesMs).toEqual([null, null, null]);
    expect(sectors.filter((split) => split.lapNumber === 2).map((split) => split.sectorNumber)).toEqual([1, 2, 3]);
    expect(sectors.filter((split) => split.lapNumber === 2).map((split) => split.sectorTimeMs)).toEqual(laps[1]!.sectorTimesMs);
  });

  it('marks the partial first lap incomplete', () => {
    const { laps } = run(trace);
    expect(laps[0]!.valid).toBe(false);
    expect(laps[0]!.invalidReasons).toEqual(['incomplete']);
  });

  it('emits nothing for the lap still in progress', () => {
    const { laps, state } = run(trace.slice(0, 500));
    expect(laps).toHaveLength(1);
    expect(state.lap?.lapNumber).toBe(2);
  });

  it('ignores jitter across the line until the lap has covered half the track (hysteresis)', () => {
    const jittery = lapping({
      lapTimeMs: LAP_MS,
      startPosition: 0.6,
      durationMs: 90_000,
      intervalMs: 100,
      // Crossing at 24 s; the car then reads behind the line once, then ahead again.
      extra: (_position, elapsed) => (elapsed === 24_100 ? { normalizedCarPosition: 0.9999 } : {}),
    });
    const { laps } = run(jittery);
    expect(laps.map((lap) => lap.lapNumber)).toEqual([1, 2]);
    expect(Math.abs(laps[1]!.lapTimeMs - LAP_MS)).toBeLessThanOrEqual(1);
    expect(laps[1]!.valid).toBe(true);
  });

  it('gives identical laps and splits wherever a batch boundary falls around a crossing', () => {
    const whole = run(trace);
    const crossingIndex = trace.findIndex((point, i) => i > 0 && point.normalizedCarPosition! < trace[i - 1]!.normalizedCarPosition!);
    for (let cut = crossingIndex - 3; cut <= crossingIndex + 3; cut += 1) {
      expect(runInBatches(trace, [cut])).toEqual({ laps: whole.laps, sectors: whole.sectors });
    }
    const second = trace.findIndex((point, i) => i > crossingIndex + 1 && point.normalizedCarPosition! < trace[i - 1]!.normalizedCarPosition!);
    expect(runInBatches(trace, [crossingIndex, second - 1, second, second + 1])).toEqual({ laps: whole.laps, sectors: whole.sectors });
  });

  it('gives identical laps when every point arrives in its own batch', () => {
    const whole = run(trace);
    const everyPoint = Array.from({ length: trace.length - 1 }, (_, i) => i + 1);
    expect(runInBatches(trace, everyPoint)).toEqual({ laps: whole.laps, sectors: whole.sectors });
  });

  it('skips points that are not later than the last point seen', () => {
    const first = run(trace.slice(0, 100));
    const replayed = detectLaps(first.state, columns(trace.slice(90, 120)));
    expect(replayed.state.skippedSamples).toBe(10);
    expect(replayed.state.previous?.timestampMs).toBe(trace[119]!.timestampMs);
  });
});

describe('sector splits from the sim', () => {
  const trace = lapping({
    lapTimeMs: LAP_MS,
    startPosition: 0.95,
    durationMs: 130_000,
    intervalMs: 100,
    firstOffsetMs: 13,
    extra: (position) => ({ currentSectorIndex: Math.min(2, Math.floor(position * 3)) }),
  });

  it('splits where current_sector_index steps, within half a sample interval', () => {
    const { laps } = run(trace);
    const lap = laps[1]!;
    for (const sectorMs of lap.sectorTimesMs) expect(Math.abs(sectorMs! - LAP_MS / 3)).toBeLessThanOrEqual(51);
    expect(lap.sectorTimesMs.reduce((sum, time) => sum! + time!, 0)).toBe(lap.lapTimeMs);
  });

  it('uses the configured boundaries instead when told to', () => {
    const { laps } = run(trace, lapDetectorConfig({ sectorSource: 'position', sectorBoundaries: [0.25, 0.5, 0.75] }));
    expect(laps[1]!.sectorTimesMs.map((time) => Math.round(time! / 10) * 10)).toEqual([15_000, 15_000, 15_000, 15_000]);
  });
});

describe('lap detection without positions', () => {
  it('falls back to the completed_laps counter, timed by the sim lap timer', () => {
    const trace = lapping({
      lapTimeMs: LAP_MS,
      startPosition: 0.5,
      durationMs: 150_000,
      intervalMs: 100,
      firstOffsetMs: 41,
      extra: (position, _elapsed, lapsDone) => ({
        normalizedCarPosition: null,
        completedLaps: lapsDone,
        currentLapTimeMs: Math.round(position * LAP_MS),
      }),
    });
    const { laps } = run(trace);
    expect(laps.map((lap) => lap.lapNumber)).toEqual([1, 2, 3]);
    expect(laps[0]!.lapTimeMs).toBe(30_000);
    expect(Math.abs(laps[1]!.lapTimeMs - LAP_MS)).toBeLessThanOrEqual(1);
    expect(laps[1]!.sectorTimesMs).toEqual([null, null, null]);
    expect(laps[1]!.valid).toBe(true);
    expect(laps[1]!.isVerified).toBe(false);
  });

  it('bridges a short stretch without positions over the line with the counter', () => {
    const extra = (position: number, _elapsed: number, lapsDone: number): Partial<TelemetrySample> => ({
      completedLaps: lapsDone,
      currentLapTimeMs: Math.round(position * LAP_MS),
      normalizedCarPosition: position > 0.995 || position < 0.005 ? null : position,
    });
    const options = { lapTimeMs: LAP_MS, startPosition: 0.3, durationMs: 150_000, intervalMs: 100, firstOffsetMs: 7 };
    const holey = run(lapping({ ...options, extra }));
    const full = run(lapping({ ...options, extra: (p, e, l) => ({ ...extra(p, e, l), normalizedCarPosition: p }) }));
    expect(holey.laps.map((lap) => lap.lapTimeMs)).toEqual(full.laps.map((lap) => lap.lapTimeMs));
    expect(holey.laps.every((lap, i) => lap.valid === full.laps[i]!.valid)).toBe(true);
  });

  it('does not count a lap twice when the counter lags the position', () => {
    const trace = lapping({
      lapTimeMs: LAP_MS,
      startPosition: 0.7,
      durationMs: 100_000,
      intervalMs: 100,
      // The counter steps 300 ms after the line, on a point that carries no position.
      extra: (position, _elapsed, lapsDone) => {
        const sinceLine = position * LAP_MS;
        const lagging = lapsDone > 0 && sinceLine < 300 ? lapsDone - 1 : lapsDone;
        return { completedLaps: lagging, normalizedCarPosition: sinceLine >= 300 && sinceLine < 400 ? null : position };
      },
    });
    const { laps } = run(trace);
    expect(laps.map((lap) => lap.lapNumber)).toEqual([1, 2]);
    expect(Math.abs(laps[1]!.lapTimeMs - LAP_MS)).toBeLessThanOrEqual(1);
  });
});

describe('a single point', () => {
  it('opens the partial lap', () => {
    const { laps, state } = run([sample({ timestampMs: T0, normalizedCarPosition: 0.5 })]);
    expect(laps).toEqual([]);
    expect(state.lap).toMatchObject({ lapNumber: 1, startedAtCrossing: false, nextBoundary: 1 });
  });
});
