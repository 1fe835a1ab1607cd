import { consistency, efficiencyPercent, keptIndices, significanceLevel, validLapTimes, type Significance } from './lap-statistics';
import { recommendations, type SessionForComparison } from './recommendations';
import { average, welchTTest, type WelchTTest } from './student-t';

/**
 * POST /analytics/compare/sessions, the pure part: deltas are primary minus secondary, so a
 * negative lap time delta means the primary session was faster.
 */

export interface SessionComparison {
  /** Best valid lap, primary − secondary. */
  lapTimeDeltaMs: number | null;
  /** Mean valid lap (outliers removed), primary − secondary. */
  meanLapTimeDeltaMs: number | null;
  /** Consistency score, primary − secondary (points). */
  consistencyDelta: number | null;
  /** Full-throttle share, primary − secondary (percentage points). */
  efficiencyDelta: number | null;
  /** Welch's t-test on the two sets of valid lap times (outliers removed). */
  welch: WelchTTest | null;
  significance: Significance;
  recommendations: string[];
}

export function compareSessions(
  primary: SessionForComparison,
  secondary: SessionForComparison,
  options: { trackLengthM?: number | null } = {},
): SessionComparison {
  const primaryTimes = validLapTimes(primary.laps);
  const secondaryTimes = validLapTimes(secondary.laps);
  const primaryKept = keptIndices(primaryTimes).map((i) => primaryTimes[i]!);
  const secondaryKept = keptIndices(secondaryTimes).map((i) => secondaryTimes[i]!);
  const best = (times: number[]) => (times.length > 0 ? times.reduce((a, b) => Math.min(a, b), Infinity) : null);
  const difference = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  const welch = welchTTest(primaryKept, secondaryKept);
  return {
    lapTimeDeltaMs: difference(best(primaryTimes), best(secondaryTimes)),
    meanLapTimeDeltaMs: difference(primaryKept.length > 0 ? average(primaryKept) : null, secondaryKept.length > 0 ? average(secondaryKept) : null),
    consistencyDelta: roundOrNull(difference(consistency(primaryTimes).score, consistency(secondaryTimes).score), 1),
    efficiencyDelta: roundOrNull(difference(efficiencyPercent(primary.laps), efficiencyPercent(secondary.laps)), 1),
    welch,
    significance: significanceLevel(welch?.pValue ?? null),
    recommendations: recommendations(primary, secondary, options.trackLengthM ?? null),
  };
}

function roundOrNull(value: number | null, decimals: number): number | null {
  if (value === null) return null;
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
