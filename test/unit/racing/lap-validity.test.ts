import { detectLaps, initialLapDetectorState } from '../../../src/domain/racing/lap-detection';
import { lapDetectorConfig, type LapDetectorConfig } from '../../../src/domain/racing/lap-detector-config';
import type { LapCompleted } from '../../../src/domain/racing/lap-events';
import type { TelemetrySample } from '../../../src/domain/racing/telemetry-batch';
import { columns, lapping, type LappingOptions } from './hand-built-trace';

const LAP_MS = 60_000;
const LENGTH_M = 4000;
const base: LappingOptions = { lapTimeMs: LAP_MS, startPosition: 0.5, durationMs: 215_000, intervalMs: 100, firstOffsetMs: 11, trackLengthM: LENGTH_M };
// Crossings at 30 s, 90 s, 150 s, 210 s: laps 2, 3, 4 are full laps.

function lapsOf(samples: TelemetrySample[], config: Partial<LapDetectorConfig> = {}): LapCompleted[] {
  return detectLaps(initialLapDetectorState(), columns(samples), lapDetectorConfig({ trackLengthM: LENGTH_M, ...config })).laps;
}

const reasons = (laps: LapCompleted[]) => laps.map((lap) => lap.invalidReasons);

describe('lap validity', () => {
  it('a clean lap is valid and verified when the track length is known', () => {
    const laps = lapsOf(lapping(base));
    expect(reasons(laps)).toEqual([['incomplete'], [], [], []]);
    expect(laps.slice(1).every((lap) => lap.isVerified)).toBe(true);
    expect(laps[0]!.isVerified).toBe(false);
  });

  it('an out-lap from the pit lane is pit and incomplete', () => {
    const trace = lapping({ ...base, startPosition: 0.03, extra: (position, _e, lapsDone) => ({ isInPitLane: lapsDone === 0 && position < 0.1 }) });
    const laps = lapsOf(trace);
    expect(laps[0]!.invalidReasons).toEqual(['pit', 'incomplete']);
    expect(laps[1]!.valid).toBe(true);
  });

  it('the in-lap and the lap after a pit stop are pit laps', () => {
    const trace = lapping({
      ...base,
      extra: (position, _e, lapsDone) => ({
        isInPitLane: (lapsDone === 1 && position > 0.93) || (lapsDone === 2 && position < 0.1),
        isInPit: lapsDone === 2 && position > 0.03 && position < 0.035,
      }),
    });
    const laps = lapsOf(trace);
    expect(reasons(laps)).toEqual([['incomplete'], ['pit'], ['pit'], []]);
    expect(laps[2]!.invalidDetails).toEqual(expect.arrayContaining(['drove through the pit lane', 'stopped in the pit box']));
  });

  it('a lap the sim flagged invalid is a cut; the flag lingering just past the line does not void the next lap', () => {
    const trace = lapping({
      ...base,
      extra: (position, _e, lapsDone) => ({ isValidLap: !((lapsDone === 1 && position > 0.4) || (lapsDone === 2 && position < 0.002)) }),
    });
    expect(reasons(lapsOf(trace))).toEqual([['incomplete'], ['cut'], [], []]);
  });

  it('the invalid flag later in the next lap is a cut of that lap', () => {
    const trace = lapping({
      ...base,
      extra: (position, _e, lapsDone) => ({ isValidLap: !((lapsDone === 1 && position > 0.4) || (lapsDone === 2 && position > 0.01 && position < 0.02)) }),
    });
    expect(reasons(lapsOf(trace))).toEqual([['incomplete'], ['cut'], ['cut'], []]);
  });

  it('a data gap inside a lap makes it incomplete and says how long', () => {
    const full = lapping(base);
    const first = full[0]!.timestampMs;
    const trace = full.filter((point) => point.timestampMs - first <= 100_000 || point.timestampMs - first >= 102_600);
    const laps = lapsOf(trace);
    expect(reasons(laps)).toEqual([['incomplete'], [], ['incomplete'], []]);
    expect(laps[2]!.invalidDetails).toEqual(['data gap of 2600 ms']);
    // The crossing either side is still timed exactly.
    expect(Math.abs(laps[2]!.lapTimeMs - LAP_MS)).toBeLessThanOrEqual(1);
  });

  it('a gap across the line voids both laps it touches', () => {
    const first = lapping(base)[0]!.timestampMs;
    const trace = lapping(base).filter((point) => point.timestampMs - first < 89_500 || point.timestampMs - first > 90_800);
    expect(reasons(lapsOf(trace))).toEqual([['incomplete'], ['incomplete'], ['incomplete'], []]);
  });

  it('a position jump (teleport) makes the lap incomplete', () => {
    const trace = lapping({ ...base, extra: (position, _e, lapsDone) => (lapsDone === 2 ? { normalizedCarPosition: position > 0.5 ? Math.min(position + 0.2, 0.99) : position } : {}) });
    const laps = lapsOf(trace, { trackLengthM: null });
    expect(laps[2]!.invalidReasons).toEqual(['incomplete']);
    expect(laps[2]!.invalidDetails[0]).toMatch(/^position jumped from 0\.(499\d|5000) to 0\.70\d\d in 100 ms$/);
  });

  it('a speed spike beyond any car is implausible', () => {
    const trace = lapping({ ...base, extra: (position, _e, lapsDone) => (lapsDone === 1 && position > 0.6 && position < 0.6016 ? { speedKmh: 340 } : {}) });
    const laps = lapsOf(trace);
    expect(reasons(laps)).toEqual([['incomplete'], ['implausible'], [], []]);
    expect(laps[1]!.invalidDetails[0]).toMatch(/^speed changed from 240\.0 to 340\.0 km\/h in 100 ms \(278 m\/s², limit 60\)$/);
  });

  it('a lap faster than its own top speed allows over the track length is implausible', () => {
    // Positions lap in 60 s but the speed channel says 120 km/h: 4 km would take 120 s.
    const trace = lapping({ ...base, extra: () => ({ speedKmh: 120 }) });
    const lap = lapsOf(trace)[1]!;
    expect(lap.invalidReasons).toEqual(['implausible']);
    expect(lap.invalidDetails).toEqual([
      'lap time 60000 ms is below the physical minimum of 102000 ms for 4000 m at the lap\'s top speed of 120.0 km/h',
      'the speed trace covers 2000 m but the lap is 4000 m',
    ]);
  });

  it('a car running backwards is implausible', () => {
    const trace = lapping({
      ...base,
      // Reverses 0.5 % of the lap (20 m), then drives on a little faster to catch up with the trace.
      extra: (position, _e, lapsDone) => {
        if (lapsDone !== 1 || position < 0.6 || position >= 0.625) return {};
        return { normalizedCarPosition: position < 0.605 ? 0.6 - (position - 0.6) : 0.595 + (position - 0.605) * 1.5 };
      },
    });
    const laps = lapsOf(trace);
    expect(laps[1]!.invalidReasons).toEqual(['implausible']);
    expect(laps[1]!.invalidDetails[0]).toMatch(/^position ran backwards by 0\.\d\d % of the lap$/);
  });

  it('timestamps that disagree with the sim lap timer are implausible', () => {
    const trace = lapping({ ...base, extra: (position) => ({ currentLapTimeMs: Math.round(position * LAP_MS * 0.99) }) });
    const lap = lapsOf(trace)[1]!;
    expect(lap.invalidReasons).toEqual(['implausible']);
    expect(lap.invalidDetails[0]).toMatch(/^timestamps give 60000 ms but the sim's lap timer gives 5940\d ms$/);
  });

  it('without a track length, world coordinates let a lap be verified', () => {
    const radiusM = LENGTH_M / (2 * Math.PI);
    const onCircle = (position: number) => ({
      worldX: radiusM * Math.cos(2 * Math.PI * position),
      worldY: 0,
      worldZ: radiusM * Math.sin(2 * Math.PI * position),
    });
    const withWorld = lapsOf(lapping({ ...base, extra: onCircle }), { trackLengthM: null });
    expect(withWorld[1]!.isVerified).toBe(true);
    const withoutWorld = lapsOf(lapping(base), { trackLengthM: null });
    expect(withoutWorld[1]!.valid).toBe(true);
    expect(withoutWorld[1]!.isVerified).toBe(false);
    // Coordinates from a 2 km loop contradict a speed trace worth 4 km.
    const shortLoop = lapsOf(lapping({ ...base, extra: (position) => ({ ...onCircle(position), worldX: onCircle(position).worldX / 2, worldZ: onCircle(position).worldZ / 2 }) }), { trackLengthM: null });
    expect(shortLoop[1]!.invalidReasons).toEqual(['implausible']);
  });

  it('a sparsely sampled lap is valid but not verified', () => {
    const laps = lapsOf(lapping({ ...base, intervalMs: 200 }), { maxGapMs: 1000 });
    expect(laps[1]!.valid).toBe(true);
    expect(laps[1]!.isVerified).toBe(false);
  });

  it('reports lap aggregates from the speed and pedal channels', () => {
    const trace = lapping({ ...base, extra: (position) => (position > 0.25 && position < 0.5 ? { throttleInput: 0, brakeInput: 0.6 } : position < 0.75 ? {} : { throttleInput: 0.02 }) });
    const lap = lapsOf(trace)[1]!;
    expect(lap.maxSpeedKmh).toBe(240);
    expect(lap.meanSpeedKmh).toBeCloseTo(240, 1);
    expect(lap.distanceM).toBeCloseTo(4000, 0);
    expect(lap.brakingFraction).toBeCloseTo(0.25, 2);
    expect(lap.coastingFraction).toBeCloseTo(0.25, 2);
    expect(lap.fullThrottleFraction).toBeCloseTo(0.5, 2);
  });
});
