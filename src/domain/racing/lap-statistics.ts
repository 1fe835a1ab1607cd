import type { LapCompleted } from './lap-events';
import { average, sampleVariance, studentTTwoSidedPValue } from './student-t';

/**
 * Lap-time statistics for the analytics endpoints. Formulas and thresholds are stated in
 * docs/telemetry.md ("Consistency", "Improvement trend", "Significance", "Efficiency").
 */

/** What the statistics need of a lap (a LapCompleted or a read-model row). */
export type LapSummary = Pick<LapCompleted, 'lapTimeMs' | 'valid' | 'sectorTimesMs' | 'fullThrottleFraction'>;

export const CONSISTENCY_RULES = {
  /** A lap slower than 107 % of the median is traffic or a mistake, not pace (the F1 107 % rule). */
  slowCutoffOfMedian: 1.07,
  /** Iglewicz–Hoaglin: |0.6745 (x − median) / MAD| > 3.5 is an outlier. */
  modifiedZCutoff: 3.5,
  /** Coefficient of variation at which the score reaches 0 (5 %: 4.5 s on a 90 s lap). */
  coefficientOfVariationAtZero: 0.05,
  minLaps: 3,
} as const;

export interface TimeStatistics {
  count: number;
  meanMs: number;
  stdDeviationMs: number;
  bestMs: number;
  worstMs: number;
  medianMs: number;
}

export function describeTimes(times: readonly number[]): TimeStatistics | null {
  if (times.length === 0) return null;
  const mean = average(times);
  return {
    count: times.length,
    meanMs: mean,
    stdDeviationMs: Math.sqrt(sampleVariance(times, mean)),
    bestMs: times.reduce((best, time) => Math.min(best, time), Infinity),
    worstMs: times.reduce((worst, time) => Math.max(worst, time), -Infinity),
    medianMs: median(times),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Indices of the times that are not outliers (107 % of median, then modified z-score > 3.5). */
export function keptIndices(times: readonly number[]): number[] {
  if (times.length === 0) return [];
  const center = median(times);
  const mad = median(times.map((time) => Math.abs(time - center)));
  // A loop, not flatMap: a leaderboard rebuild runs this for every user, track, car and category.
  const kept: number[] = [];
  for (let index = 0; index < times.length; index++) {
    const time = times[index]!;
    if (time > center * CONSISTENCY_RULES.slowCutoffOfMedian) continue;
    if (mad > 0 && Math.abs((0.6745 * (time - center)) / mad) > CONSISTENCY_RULES.modifiedZCutoff) continue;
    kept.push(index);
  }
  return kept;
}

export function removeOutliers(times: readonly number[]): { kept: number[]; outliers: number[] } {
  const keep = keptIndices(times);
  const kept: number[] = [];
  const outliers: number[] = [];
  // keptIndices is ascending: one walk splits the times in their order.
  for (let index = 0, next = 0; index < times.length; index++) {
    if (next < keep.length && keep[next] === index) {
      kept.push(times[index]!);
      next++;
    } else {
      outliers.push(times[index]!);
    }
  }
  return { kept, outliers };
}

/** score = clamp(100 × (1 − CV / 0.05), 0, 100), one decimal; null below 3 laps after outliers. */
export function consistencyScoreFromCv(coefficientOfVariation: number): number {
  const raw = 100 * (1 - coefficientOfVariation / CONSISTENCY_RULES.coefficientOfVariationAtZero);
  return Math.round(Math.min(100, Math.max(0, raw)) * 10) / 10;
}

export interface Consistency {
  score: number | null;
  coefficientOfVariation: number | null;
  lapsAnalyzed: number;
  outliersRemoved: number;
  statistics: TimeStatistics | null;
}

export function consistency(times: readonly number[]): Consistency {
  const { kept, outliers } = removeOutliers(times);
  const statistics = describeTimes(kept);
  if (statistics === null || kept.length < CONSISTENCY_RULES.minLaps) {
    return { score: null, coefficientOfVariation: null, lapsAnalyzed: kept.length, outliersRemoved: outliers.length, statistics };
  }
  const coefficientOfVariation = statistics.stdDeviationMs / statistics.meanMs;
  return { score: consistencyScoreFromCv(coefficientOfVariation), coefficientOfVariation, lapsAnalyzed: kept.length, outliersRemoved: outliers.length, statistics };
}

/** Lap times of the valid laps, in the order given (chronological). */
export const validLapTimes = (laps: readonly LapSummary[]): number[] => laps.filter((lap) => lap.valid).map((lap) => lap.lapTimeMs);

export interface SectorConsistency extends Consistency {
  sectorNumber: number;
}

/** The same score per sector, over valid laps that timed that sector, outliers removed per sector. */
export function sectorConsistency(laps: readonly LapSummary[]): SectorConsistency[] {
  const valid = laps.filter((lap) => lap.valid);
  const sectorCount = valid.reduce((count, lap) => Math.max(count, lap.sectorTimesMs.length), 0);
  return Array.from({ length: sectorCount }, (_, sector) => {
    const times = valid.flatMap((lap) => {
      const time = lap.sectorTimesMs[sector];
      return time === null || time === undefined ? [] : [time];
    });
    return { sectorNumber: sector + 1, ...consistency(times) };
  });
}

export type ImprovementTrendLabel = 'improving' | 'declining' | 'stable' | 'insufficient_data';

export const TREND_RULES = {
  minLaps: 5,
  maxPValue: 0.05,
  /** The fitted change over the series must be at least 0.2 % of the mean lap to matter. */
  minRelativeChange: 0.002,
} as const;

export interface ImprovementTrend {
  trend: ImprovementTrendLabel;
  /** Least-squares slope of lap time against lap order (negative = getting faster). */
  slopeMsPerLap: number | null;
  pValue: number | null;
  lapsAnalyzed: number;
}

/**
 * Linear regression of valid lap times (outliers removed) on their position in the series; the
 * slope counts only when its t-test (df = n − 2) gives p < 0.05 and the fitted change is material.
 */
export function improvementTrend(chronologicalTimes: readonly number[]): ImprovementTrend {
  const kept = keptIndices(chronologicalTimes);
  const n = kept.length;
  if (n < TREND_RULES.minLaps) return { trend: 'insufficient_data', slopeMsPerLap: null, pValue: null, lapsAnalyzed: n };
  // x is the lap's place in the whole series, so removed outliers leave a hole instead of shifting laps.
  const xs = kept;
  const ys = kept.map((index) => chronologicalTimes[index]!);
  const meanX = average(xs);
  const meanY = average(ys);
  const sxx = xs.reduce((sum, x) => sum + (x - meanX) ** 2, 0);
  const sxy = xs.reduce((sum, x, i) => sum + (x - meanX) * (ys[i]! - meanY), 0);
  const slope = sxy / sxx;
  const residualSquares = ys.reduce((sum, y, i) => sum + (y - (meanY + slope * (xs[i]! - meanX))) ** 2, 0);
  const standardError = Math.sqrt(residualSquares / (n - 2) / sxx);
  const pValue = standardError === 0 ? (slope === 0 ? 1 : 0) : studentTTwoSidedPValue(slope / standardError, n - 2);
  const fittedChange = Math.abs(slope * (xs[n - 1]! - xs[0]!));
  const material = fittedChange >= TREND_RULES.minRelativeChange * meanY;
  const trend: ImprovementTrendLabel = pValue < TREND_RULES.maxPValue && material ? (slope < 0 ? 'improving' : 'declining') : 'stable';
  return { trend, slopeMsPerLap: slope, pValue, lapsAnalyzed: n };
}

export type Significance = 'high' | 'medium' | 'low' | 'none';

/** p < 0.01 high, < 0.05 medium, < 0.10 low, otherwise (or no test possible) none. */
export function significanceLevel(pValue: number | null): Significance {
  if (pValue === null || Number.isNaN(pValue)) return 'none';
  if (pValue < 0.01) return 'high';
  if (pValue < 0.05) return 'medium';
  if (pValue < 0.1) return 'low';
  return 'none';
}

/** Efficiency: mean share of lap time at full throttle over valid laps, in percent (one decimal). */
export function efficiencyPercent(laps: readonly LapSummary[]): number | null {
  const valid = laps.filter((lap) => lap.valid);
  if (valid.length === 0) return null;
  return Math.round(average(valid.map((lap) => lap.fullThrottleFraction)) * 1000) / 10;
}

export interface PerformanceSummary {
  totalLaps: number;
  validLaps: number;
  bestLapTimeMs: number | null;
  averageLapTimeMs: number | null;
  consistencyScore: number | null;
  improvementTrend: ImprovementTrendLabel;
  efficiencyPercent: number | null;
}

/** The numbers of /analytics/performance/overview, over laps in chronological order. */
export function summarizePerformance(laps: readonly LapSummary[]): PerformanceSummary {
  const times = validLapTimes(laps);
  return {
    totalLaps: laps.length,
    validLaps: times.length,
    bestLapTimeMs: times.length > 0 ? times.reduce((best, time) => Math.min(best, time), Infinity) : null,
    averageLapTimeMs: times.length > 0 ? average(times) : null,
    consistencyScore: consistency(times).score,
    improvementTrend: improvementTrend(times).trend,
    efficiencyPercent: efficiencyPercent(laps),
  };
}
