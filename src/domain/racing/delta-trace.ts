import type { TelemetrySample } from './telemetry-batch';

/**
 * Delta time between two laps aligned by track position: where on the lap does B gain or lose
 * against A? Each lap becomes elapsed time as a function of normalized position (monotonic by
 * construction), both are resampled at the same N positions, and delta = t_B − t_A.
 */

/** One lap as functions of position: position strictly increasing from 0 to 1. */
export interface LapTrace {
  positions: number[];
  elapsedMs: number[];
  speedKmh: number[];
  brakeInput: number[];
  throttleInput: number[];
}

/**
 * The points of one lap (between its start and end instants) as a LapTrace, anchored at
 * (0, 0 ms) and (1, lap time). Points without a position, points still reading behind the line
 * just after it (or past it just before the end), and points not ahead of the last one kept
 * (position noise at low speed) are left out, so the trace is strictly increasing.
 */
export function lapTraceFromSamples(samples: readonly TelemetrySample[], lap: { startedAtMs: number; endedAtMs: number }): LapTrace | null {
  const lapTimeMs = lap.endedAtMs - lap.startedAtMs;
  if (lapTimeMs <= 0) return null;
  const inside = samples.filter((point) => point.timestampMs > lap.startedAtMs && point.timestampMs < lap.endedAtMs);
  const first = inside[0] ?? samples.find((point) => point.timestampMs >= lap.startedAtMs);
  if (first === undefined) return null;
  const trace: LapTrace = { positions: [0], elapsedMs: [0], speedKmh: [first.speedKmh], brakeInput: [first.brakeInput], throttleInput: [first.throttleInput] };
  for (const point of inside) {
    const position = point.normalizedCarPosition;
    if (position === null) continue;
    const elapsed = point.timestampMs - lap.startedAtMs;
    const firstHalf = elapsed < lapTimeMs / 2;
    if ((firstHalf && position > 0.5) || (!firstHalf && position < 0.5)) continue;
    if (position <= trace.positions[trace.positions.length - 1]! || position >= 1) continue;
    trace.positions.push(position);
    trace.elapsedMs.push(elapsed);
    trace.speedKmh.push(point.speedKmh);
    trace.brakeInput.push(point.brakeInput);
    trace.throttleInput.push(point.throttleInput);
  }
  const last = inside[inside.length - 1] ?? first;
  trace.positions.push(1);
  trace.elapsedMs.push(lapTimeMs);
  trace.speedKmh.push(last.speedKmh);
  trace.brakeInput.push(last.brakeInput);
  trace.throttleInput.push(last.throttleInput);
  return trace;
}

/** Linear interpolation of `values` at `position` (positions ascending); monotone data stays monotone. */
export function valueAtPosition(positions: readonly number[], values: readonly number[], position: number): number {
  if (position <= positions[0]!) return values[0]!;
  const lastIndex = positions.length - 1;
  if (position >= positions[lastIndex]!) return values[lastIndex]!;
  let low = 0;
  let high = lastIndex;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (positions[middle]! <= position) low = middle;
    else high = middle;
  }
  const span = positions[high]! - positions[low]!;
  const fraction = span > 0 ? (position - positions[low]!) / span : 0;
  return values[low]! + (values[high]! - values[low]!) * fraction;
}

export interface DeltaTrace {
  /** N evenly spaced positions from 0 to 1. */
  positions: number[];
  /** Track distance of each position when the lap length is known, else null. */
  distanceM: number[] | null;
  elapsedAMs: number[];
  elapsedBMs: number[];
  /** t_B − t_A: positive where B is behind A. The last value is the lap time difference. */
  deltaMs: number[];
}

export function deltaTrace(lapA: LapTrace, lapB: LapTrace, options: { points?: number; trackLengthM?: number | null } = {}): DeltaTrace {
  const count = Math.max(2, Math.floor(options.points ?? 100));
  const positions = Array.from({ length: count }, (_, i) => i / (count - 1));
  const elapsedAMs = positions.map((position) => valueAtPosition(lapA.positions, lapA.elapsedMs, position));
  const elapsedBMs = positions.map((position) => valueAtPosition(lapB.positions, lapB.elapsedMs, position));
  const trackLengthM = options.trackLengthM ?? null;
  return {
    positions,
    distanceM: trackLengthM === null ? null : positions.map((position) => position * trackLengthM),
    elapsedAMs,
    elapsedBMs,
    deltaMs: elapsedBMs.map((elapsedB, i) => elapsedB - elapsedAMs[i]!),
  };
}
