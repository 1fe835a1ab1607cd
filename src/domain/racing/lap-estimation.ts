import { CHANNELS, distanceAtTime, resample, timeAtDistance, totalDistanceM, type DistanceTrace, type EstimationChannel } from './distance-trace';
import { findLapPeriod } from './lap-period';
import type { LapEstimatorConfig } from './lap-estimator-config';

/**
 * Lap boundaries of a trace without positions (docs/telemetry.md, "Laps without positions"):
 *
 * 1. the lap length is the period of speed, throttle and brake over distance driven (lap-period.ts);
 * 2. the laps folded onto that length give a template lap, and the line is put where the template
 *    is fastest (the end of the longest straight: nothing in the data says where the real line is);
 * 3. lap by lap, the next boundary is predicted one lap length on and moved to where the trace
 *    around it matches the template best (cross-correlation over ±`refineWindowLap` of a lap,
 *    within ±`refineShiftLap`), which keeps the boundaries on the same spot of track however the
 *    distance per lap drifts. A second pass refines them against the template of the found laps.
 *
 * Pure and deterministic: the same points (and the same laps already settled) give the same laps.
 */

export interface EstimatedLapBounds {
  startMs: number;
  endMs: number;
  /** When the lap passed one and two thirds of its distance (sector splits); null on the partial first lap. */
  splitsMs: [number, number] | null;
  /** The first lap of a recording: from the first point to the first boundary. */
  partial: boolean;
}

export interface BoundaryEstimation {
  laps: EstimatedLapBounds[];
  lapDistanceM: number | null;
}

interface Template {
  /** One lap, `bins` values per channel, bin 0 at the line; standardized per channel. */
  values: Record<EstimationChannel, Float64Array>;
  bins: number;
  lapDistanceM: number;
}

/**
 * Laps ending after the settled boundaries. `settledBoundariesMs`: boundaries of laps already
 * emitted (ascending; empty before the first lock; at least two afterwards). `final`: the data
 * ends here (session completed), so the last boundary may be refined on one side only.
 */
export function estimateLapBoundaries(
  trace: DistanceTrace,
  settledBoundariesMs: readonly number[],
  final: boolean,
  config: LapEstimatorConfig,
  trackLengthM: number | null,
): BoundaryEstimation {
  if (trace.timestampMs.length < 3) return { laps: [], lapDistanceM: null };
  if (settledBoundariesMs.length >= 2) return continueLaps(trace, settledBoundariesMs, final, config);
  return firstLaps(trace, final, config, trackLengthM);
}

function firstLaps(trace: DistanceTrace, final: boolean, config: LapEstimatorConfig, trackLengthM: number | null): BoundaryEstimation {
  const period = findLapPeriod(trace, {
    stepM: config.searchStepM,
    minLapM: config.minLapM,
    maxLapM: config.maxLapM,
    minCorrelation: config.minCorrelation,
    peakShare: config.peakShare,
    minPeriodsOfData: config.minPeriodsOfData,
    trackLengthM,
    lengthTolerance: config.lengthTolerance,
  });
  if (period === null) return { laps: [], lapDistanceM: null };
  const lapM = period.lapDistanceM;
  const total = totalDistanceM(trace);
  const folds: Array<[number, number]> = [];
  for (let start = 0; start + lapM <= total; start += lapM) folds.push([start, start + lapM]);
  const folded = buildTemplate(trace, folds, lapM, config);
  // The line: the fastest bin of the folded lap.
  let fastest = 0;
  for (let j = 1; j < folded.bins; j += 1) if (folded.values.speedKmh[j]! > folded.values.speedKmh[fastest]!) fastest = j;
  const phaseM = (fastest / folded.bins) * lapM;
  const template = rotate(folded, fastest);

  // First pass: follow the trace lap by lap from the phase.
  const firstPass: number[] = [];
  for (let predicted = phaseM; ; ) {
    const refined = refineBoundary(trace, template, predicted, final, config);
    if (refined === null) break;
    firstPass.push(refined);
    predicted = refined + lapM;
  }
  if (firstPass.length < 2) return { laps: [], lapDistanceM: lapM };
  // Second pass: the template of the laps just found, each boundary refined again.
  const found = buildTemplate(trace, pairs(firstPass), lapM, config);
  const boundaries = firstPass.map((at) => refineBoundary(trace, found, at, final, config) ?? at);
  const times = monotonicTimes(trace, boundaries);
  const laps: EstimatedLapBounds[] = [];
  const firstMs = trace.timestampMs[0]!;
  if (times[0]! > firstMs) laps.push({ startMs: firstMs, endMs: times[0]!, splitsMs: null, partial: true });
  laps.push(...fullLaps(trace, boundaries, times));
  return { laps, lapDistanceM: lapM };
}

function continueLaps(trace: DistanceTrace, settledMs: readonly number[], final: boolean, config: LapEstimatorConfig): BoundaryEstimation {
  const settledM = settledMs.map((ms) => distanceAtTime(trace, ms));
  const recent = pairs(settledM).slice(-config.templateLaps);
  const lapM = recent.reduce((sum, [from, to]) => sum + (to - from), 0) / recent.length;
  if (!(lapM > 0)) return { laps: [], lapDistanceM: null };
  const template = buildTemplate(trace, recent, lapM, config);
  const boundaries = [settledM[settledM.length - 1]!];
  for (;;) {
    const refined = refineBoundary(trace, template, boundaries[boundaries.length - 1]! + lapM, final, config);
    if (refined === null) break;
    boundaries.push(refined);
  }
  const times = [settledMs[settledMs.length - 1]!, ...monotonicTimes(trace, boundaries.slice(1))];
  return { laps: fullLaps(trace, boundaries, times), lapDistanceM: lapM };
}

const pairs = (values: readonly number[]): Array<[number, number]> => values.slice(1).map((to, i) => [values[i]!, to]);

/** Boundary instants rounded to whole ms (what the LapCompleted events carry), strictly increasing. */
function monotonicTimes(trace: DistanceTrace, boundariesM: readonly number[]): number[] {
  const times: number[] = [];
  for (const at of boundariesM) {
    const ms = Math.round(timeAtDistance(trace, at));
    times.push(times.length > 0 ? Math.max(ms, times[times.length - 1]! + 1) : ms);
  }
  return times;
}

function fullLaps(trace: DistanceTrace, boundariesM: readonly number[], timesMs: readonly number[]): EstimatedLapBounds[] {
  return pairs(boundariesM).map(([from, to], i) => {
    const third = (to - from) / 3;
    return {
      startMs: timesMs[i]!,
      endMs: timesMs[i + 1]!,
      splitsMs: [Math.round(timeAtDistance(trace, from + third)), Math.round(timeAtDistance(trace, from + 2 * third))],
      partial: false,
    };
  });
}

/** Each lap [from, to] resampled to the same bins and averaged; channels standardized. */
function buildTemplate(trace: DistanceTrace, laps: ReadonlyArray<readonly [number, number]>, lapDistanceM: number, config: LapEstimatorConfig): Template {
  const bins = Math.max(8, Math.round(lapDistanceM / config.templateStepM));
  const values = { speedKmh: new Float64Array(bins), throttleInput: new Float64Array(bins), brakeInput: new Float64Array(bins) };
  for (const [from, to] of laps) {
    const lap = resample(trace, from, (to - from) / bins, bins);
    for (const channel of CHANNELS) for (let j = 0; j < bins; j += 1) values[channel][j]! += lap[channel][j]! / laps.length;
  }
  for (const channel of CHANNELS) standardizeInPlace(values[channel]);
  return { values, bins, lapDistanceM };
}

function standardizeInPlace(values: Float64Array): void {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const sd = Math.sqrt(variance / values.length);
  for (let j = 0; j < values.length; j += 1) values[j] = sd > 1e-9 ? (values[j]! - mean) / sd : 0;
}

function rotate(template: Template, by: number): Template {
  const rotated = { speedKmh: new Float64Array(template.bins), throttleInput: new Float64Array(template.bins), brakeInput: new Float64Array(template.bins) };
  for (const channel of CHANNELS) for (let j = 0; j < template.bins; j += 1) rotated[channel][j] = template.values[channel][(j + by) % template.bins]!;
  return { ...template, values: rotated };
}

/**
 * The boundary near `predictedM` where the trace around it best matches the template around the
 * line. Null when the data does not yet reach far enough past it to decide (not `final`).
 * A weak best match (a pit lane drive, a spin) keeps the prediction.
 */
function refineBoundary(trace: DistanceTrace, template: Template, predictedM: number, final: boolean, config: LapEstimatorConfig): number | null {
  const total = totalDistanceM(trace);
  const lapM = template.lapDistanceM;
  const window = config.refineWindowLap * lapM;
  const shift = config.refineShiftLap * lapM;
  if (!final && predictedM + shift + window > total) return null;
  if (predictedM > total) return null;
  const shiftLeft = Math.min(shift, Math.max(predictedM, 0));
  const shiftRight = Math.min(shift, total - predictedM);
  const uFrom = Math.max(-window, -(predictedM - shiftLeft));
  const uTo = Math.min(window, total - (predictedM + shiftRight));
  if (uTo - uFrom < config.minRefineWindowLap * lapM) return predictedM;

  // The trace around the prediction on a 1 m grid, standardized like the template.
  const gridFrom = Math.floor(predictedM - shiftLeft + uFrom);
  const gridCount = Math.ceil(predictedM + shiftRight + uTo) - gridFrom + 1;
  const grid = resample(trace, gridFrom, 1, gridCount);
  const uStep = config.templateStepM;
  const offsets: number[] = [];
  for (let u = Math.ceil(uFrom / uStep) * uStep; u <= uTo; u += uStep) offsets.push(u);
  const templateAt = (channel: EstimationChannel, u: number) => {
    const position = ((((u / lapM) % 1) + 1) % 1) * template.bins;
    const j = Math.floor(position);
    const f = position - j;
    const values = template.values[channel];
    return values[j % template.bins]! * (1 - f) + values[(j + 1) % template.bins]! * f;
  };
  const reference = CHANNELS.map((channel) => offsets.map((u) => templateAt(channel, u)));

  // Pearson correlation per channel over the window, averaged over the channels that vary.
  const firstShift = -Math.floor(shiftLeft);
  const lastShift = Math.floor(shiftRight);
  const n = offsets.length;
  const baseIndex = Int32Array.from(offsets, (u) => Math.round(predictedM + u) - gridFrom);
  const columns = CHANNELS.map((channel) => grid[channel]);
  const referenceSums = reference.map((ref) => {
    let sy = 0;
    let syy = 0;
    for (const y of ref) {
      sy += y;
      syy += y * y;
    }
    return { sy, syy };
  });
  const scores: number[] = [];
  for (let s = firstShift; s <= lastShift; s += 1) {
    let sum = 0;
    let used = 0;
    for (let c = 0; c < columns.length; c += 1) {
      const column = columns[c]!;
      const ref = reference[c]!;
      let sx = 0;
      let sxx = 0;
      let sxy = 0;
      for (let k = 0; k < n; k += 1) {
        const index = Math.min(Math.max(baseIndex[k]! + s, 0), gridCount - 1);
        const x = column[index]!;
        sx += x;
        sxx += x * x;
        sxy += x * ref[k]!;
      }
      const { sy, syy } = referenceSums[c]!;
      const denominator = (n * sxx - sx * sx) * (n * syy - sy * sy);
      if (denominator > 1e-12) {
        sum += (n * sxy - sx * sy) / Math.sqrt(denominator);
        used += 1;
      }
    }
    scores.push(used > 0 ? sum / used : -1);
  }
  let best = 0;
  for (let i = 1; i < scores.length; i += 1) if (scores[i]! > scores[best]!) best = i;
  if (scores[best]! < config.minRefineCorrelation) return predictedM;
  const left = scores[best - 1];
  const right = scores[best + 1];
  let offset = 0;
  if (left !== undefined && right !== undefined) {
    const curvature = left - 2 * scores[best]! + right;
    if (curvature < 0) offset = Math.max(-0.5, Math.min(0.5, (0.5 * (left - right)) / curvature));
  }
  return predictedM + firstShift + best + offset;
}
