import { CHANNELS, resample, totalDistanceM, type DistanceTrace } from './distance-trace';

/**
 * The lap length of a trace without positions: the period, in distance driven, with which speed,
 * throttle and brake repeat (docs/telemetry.md, "Laps without positions"). Normalized
 * autocorrelation of the three channels together; the lap is the shortest strong peak, so twice
 * the lap (which correlates about as well) is not taken for one lap.
 */

export interface LapPeriodOptions {
  /** Grid spacing of the search, metres. */
  stepM: number;
  minLapM: number;
  maxLapM: number;
  /** Weakest correlation that still counts as a repeating lap (1 = identical laps). */
  minCorrelation: number;
  /** A shorter peak this strong (share of the best), of which the best is a multiple, is the lap. */
  peakShare: number;
  /** Data needed, in periods: the correlation at lag L averages over the remaining (this − 1) × L. */
  minPeriodsOfData: number;
  /** When known, the lap must match it within `lengthTolerance` (distance from speed confirms the laps). */
  trackLengthM: number | null;
  lengthTolerance: number;
}

export interface LapPeriod {
  lapDistanceM: number;
  correlation: number;
}

/** Mean-free, unit-variance copy; null for a channel that does not vary (e.g. a brake never used). */
function standardized(values: Float64Array): Float64Array | null {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i += 1) mean += values[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i += 1) variance += (values[i]! - mean) ** 2;
  const sd = Math.sqrt(variance / n);
  if (!(sd > 1e-6)) return null;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 1) out[i] = (values[i]! - mean) / sd;
  return out;
}

export function findLapPeriod(trace: DistanceTrace, options: LapPeriodOptions): LapPeriod | null {
  const total = totalDistanceM(trace);
  const count = Math.floor(total / options.stepM) + 1;
  const maxLag = Math.min(Math.floor(options.maxLapM / options.stepM), Math.floor((count - 1) / options.minPeriodsOfData));
  const minLag = Math.max(2, Math.ceil(options.minLapM / options.stepM));
  if (maxLag <= minLag + 1) return null;
  const grid = resample(trace, 0, options.stepM, count);
  const series = CHANNELS.map((channel) => standardized(grid[channel])).filter((s): s is Float64Array => s !== null);
  if (series.length === 0) return null;

  const correlation = new Float64Array(maxLag + 2);
  for (let lag = minLag - 1; lag <= maxLag + 1; lag += 1) {
    let cross = 0;
    let headPower = 0;
    let tailPower = 0;
    for (const s of series) {
      for (let i = 0; i + lag < count; i += 1) {
        const a = s[i]!;
        const b = s[i + lag]!;
        cross += a * b;
        headPower += a * a;
        tailPower += b * b;
      }
    }
    correlation[lag] = headPower > 0 && tailPower > 0 ? cross / Math.sqrt(headPower * tailPower) : 0;
  }

  const peaks: Array<{ lag: number; value: number }> = [];
  for (let lag = minLag; lag <= maxLag; lag += 1) {
    const value = correlation[lag]!;
    if (value >= options.minCorrelation && value >= correlation[lag - 1]! && value > correlation[lag + 1]!) peaks.push({ lag, value });
  }
  const lapOf = (peak: { lag: number; value: number }): LapPeriod => {
    // Parabola through the peak and its neighbours: the lap to a fraction of the grid step.
    const left = correlation[peak.lag - 1]!;
    const right = correlation[peak.lag + 1]!;
    const curvature = left - 2 * peak.value + right;
    const offset = curvature < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (left - right)) / curvature)) : 0;
    return { lapDistanceM: (peak.lag + offset) * options.stepM, correlation: peak.value };
  };

  if (options.trackLengthM !== null) {
    const length = options.trackLengthM;
    const near = peaks.filter((peak) => Math.abs(peak.lag * options.stepM - length) <= options.lengthTolerance * length);
    if (near.length === 0) return null;
    return lapOf(near.reduce((best, peak) => (peak.value > best.value ? peak : best)));
  }
  if (peaks.length === 0) return null;
  // Laps repeat at every multiple of the lap too, and a multiple may correlate best (it spans the
  // same stretch of a session's pace twice): the lap is the shortest strong peak the best one is a
  // multiple of.
  const best = peaks.reduce((a, b) => (b.value > a.value ? b : a));
  const fundamental = peaks.find((peak) => {
    const ratio = best.lag / peak.lag;
    return peak.value >= options.peakShare * best.value && Math.abs(ratio - Math.round(ratio)) <= 0.03 * Math.round(ratio);
  });
  return lapOf(fundamental ?? best);
}
