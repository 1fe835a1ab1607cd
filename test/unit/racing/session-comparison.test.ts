import type { LapTrace } from '../../../src/domain/racing/delta-trace';
import type { LapSummary } from '../../../src/domain/racing/lap-statistics';
import { brakingOnsets, recommendations, sectorDeltas, type SessionForComparison } from '../../../src/domain/racing/recommendations';
import { compareSessions } from '../../../src/domain/racing/session-comparison';

const lap = (sectorTimesMs: number[], valid = true, fullThrottleFraction = 0.6): LapSummary => ({
  lapTimeMs: sectorTimesMs.reduce((sum, time) => sum + time, 0),
  sectorTimesMs,
  valid,
  fullThrottleFraction,
});

/**
 * An 80 s lap as a trace every 0.1 % of the lap: `extraMs(p)` is time lost by position p, and the
 * brake is fully on for 1.5 % of the lap from each onset.
 */
function trace(extraMs: (position: number) => number, brakeOnsets: number[]): LapTrace {
  const positions = Array.from({ length: 1001 }, (_, i) => i / 1000);
  return {
    positions,
    elapsedMs: positions.map((p) => p * 80_000 + extraMs(p)),
    speedKmh: positions.map(() => 180),
    brakeInput: positions.map((p) => (brakeOnsets.some((onset) => p >= onset - 1e-9 && p < onset + 0.015) ? 1 : 0)),
    throttleInput: positions.map(() => 1),
  };
}

const ramp = (from: number, to: number, ms: number) => (p: number) => Math.min(Math.max((p - from) / (to - from), 0), 1) * ms;

// Sector 2 is 0.40 s slower on average in the primary session; sectors 1 and 3 match.
const primaryLaps = [lap([30_000, 35_400, 25_000]), lap([30_050, 35_450, 24_950]), lap([29_950, 35_350, 25_050]), lap([30_000, 35_400, 25_000], false)];
const secondaryLaps = [lap([30_000, 35_000, 25_000]), lap([30_040, 35_020, 24_980]), lap([29_960, 34_980, 25_020])];

describe('recommendations', () => {
  it('names the sector where most time is lost, with the numbers', () => {
    expect(sectorDeltas(primaryLaps, secondaryLaps).map((sector) => Math.round(sector.deltaMs))).toEqual([0, 400, 0]);
    expect(recommendations({ laps: primaryLaps, bestLap: null }, { laps: secondaryLaps, bestLap: null }, null)).toContain(
      'Sector 2 costs you 0.40 s per lap on average (35.40 s against 35.00 s), the largest loss of the 3 sectors.',
    );
  });

  it('when faster everywhere, names the sector that gains the least', () => {
    const faster = [lap([29_800, 34_900, 24_700]), lap([29_820, 34_880, 24_720]), lap([29_780, 34_920, 24_680])];
    expect(recommendations({ laps: faster, bestLap: null }, { laps: secondaryLaps, bestLap: null }, null)).toEqual([
      'You are faster in all 3 sectors; sector 2 gains the least (0.10 s per lap).',
    ]);
  });

  it('names the least consistent sector when it stands out', () => {
    const erratic = [lap([30_000, 35_000, 25_000]), lap([30_010, 35_900, 24_990]), lap([29_990, 34_300, 25_010]), lap([30_000, 35_600, 25_000])];
    const sentences = recommendations({ laps: erratic, bestLap: null }, { laps: erratic, bestLap: null }, null);
    expect(sentences).toHaveLength(1);
    expect(sentences[0]).toMatch(/^Sector 2 is your least consistent: σ 0\.71 s \(score 59\.8\) against σ 0\.01 s in sector [13] \(score 99\.\d\)\.$/);
  });

  it('finds the track segment where the best lap loses most, in % of the lap and metres', () => {
    const reference = trace(() => 0, []);
    const primary = trace(ramp(0.36, 0.39, 300), []);
    const sentences = recommendations({ laps: [], bestLap: primary }, { laps: [], bestLap: reference }, 4000);
    expect(sentences).toEqual(["Your best lap loses the most time between 35 % and 40 % of the lap (1,400 m to 1,600 m): 0.30 s against the other session's best lap."]);
  });

  it('says to brake later where braking earlier costs time', () => {
    const reference = trace(() => 0, [0.2, 0.42]);
    const primary = trace(ramp(0.415, 0.44, 250), [0.2, 0.415]);
    // The pedal steps from 0 to 1 between two points 0.1 % apart: the onset is where it passes 0.2.
    expect(brakingOnsets(primary)).toEqual([expect.closeTo(0.1992, 9), expect.closeTo(0.4142, 9)]);
    const sentences = recommendations({ laps: [], bestLap: primary }, { laps: [], bestLap: reference }, 4000);
    expect(sentences).toContain(
      "In the braking zone at 41.9 % of the lap (≈ 1,677 m) you brake 20 m earlier than the other session's best lap and lose 0.25 s through the corner: brake later.",
    );
  });

  it('says to brake earlier where braking later costs time, in lap share without a track length', () => {
    const reference = trace(() => 0, [0.6]);
    const primary = trace(ramp(0.61, 0.64, 180), [0.608]);
    const sentences = recommendations({ laps: [], bestLap: primary }, { laps: [], bestLap: reference }, null);
    expect(sentences).toContain(
      "In the braking zone at 59.9 % of the lap you brake 0.8 % of the lap later than the other session's best lap and lose 0.18 s through the corner: brake earlier and carry more speed out.",
    );
  });

  it('says nothing when there is nothing to say', () => {
    const same = trace(() => 0, [0.3]);
    expect(recommendations({ laps: secondaryLaps, bestLap: same }, { laps: secondaryLaps, bestLap: same }, 4000)).toEqual([]);
  });
});

describe('compareSessions', () => {
  // The lap-time samples of the SciPy reference case in student-t.test.ts.
  const primary: SessionForComparison = {
    laps: [85_234, 85_612, 85_401, 85_889, 85_377, 85_502].map((t) => ({ lapTimeMs: t, sectorTimesMs: [], valid: true, fullThrottleFraction: 0.64 })),
    bestLap: null,
  };
  const secondary: SessionForComparison = {
    laps: [86_101, 85_977, 86_345, 85_842, 86_210, 86_033, 86_188, 99_000].map((t, i) => ({ lapTimeMs: t, sectorTimesMs: [], valid: i < 7, fullThrottleFraction: 0.61 })),
    bestLap: null,
  };

  it('reports deltas as primary minus secondary and a Welch test on valid laps', () => {
    const result = compareSessions(primary, secondary);
    expect(result.lapTimeDeltaMs).toBe(85_234 - 85_842);
    expect(result.meanLapTimeDeltaMs).toBeCloseTo(85_502.5 - 86_099.428571, 4);
    expect(result.welch!.tStatistic).toBeCloseTo(-5.316987265412102, 9);
    expect(result.welch!.pValue).toBeCloseTo(0.00047563470364374874, 12);
    expect(result.significance).toBe('high');
    expect(result.efficiencyDelta).toBe(3);
    expect(result.consistencyDelta).not.toBeNull();
  });

  it('has no significance without two laps a side', () => {
    const result = compareSessions({ laps: primary.laps.slice(0, 1), bestLap: null }, secondary);
    expect(result.welch).toBeNull();
    expect(result.significance).toBe('none');
    expect(result.consistencyDelta).toBeNull();
  });
});
