/**
 * A telemetry trace indexed by distance driven instead of time (docs/telemetry.md, "Laps without
 * positions"). Distance is the speed channel integrated over time (trapezoids). In this domain a
 * lap is one fixed length of track: a standstill in the pit box adds no distance, so the pattern
 * of speed, throttle and brake repeats with one period whatever the stops and the pace.
 */

const MPS_PER_KMH = 1 / 3.6;

/** The channels estimation reads, one array per channel, strictly increasing timestamps. */
export interface EstimationTrace {
  timestampMs: number[];
  speedKmh: number[];
  throttleInput: number[];
  brakeInput: number[];
}

export interface DistanceTrace extends EstimationTrace {
  /** Distance driven since the first point, metres; non-decreasing. */
  distanceM: Float64Array;
}

export const CHANNELS = ['speedKmh', 'throttleInput', 'brakeInput'] as const;
export type EstimationChannel = (typeof CHANNELS)[number];

export function withDistance(trace: EstimationTrace): DistanceTrace {
  const n = trace.timestampMs.length;
  const distanceM = new Float64Array(n);
  for (let i = 1; i < n; i += 1) {
    const dtS = (trace.timestampMs[i]! - trace.timestampMs[i - 1]!) / 1000;
    distanceM[i] = distanceM[i - 1]! + ((trace.speedKmh[i]! + trace.speedKmh[i - 1]!) / 2) * MPS_PER_KMH * dtS;
  }
  return { ...trace, distanceM };
}

export const totalDistanceM = (trace: DistanceTrace): number => (trace.distanceM.length === 0 ? 0 : trace.distanceM[trace.distanceM.length - 1]!);

/** Index of the first point at or beyond `distanceM` (length when none is). */
function firstIndexAtOrBeyond(trace: DistanceTrace, distanceM: number): number {
  let low = 0;
  let high = trace.distanceM.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (trace.distanceM[mid]! < distanceM) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A channel's value at a distance, linearly interpolated; clamped to the trace's ends. */
export function channelAt(trace: DistanceTrace, channel: EstimationChannel, distanceM: number): number {
  const values = trace[channel];
  const i = firstIndexAtOrBeyond(trace, distanceM);
  if (i === 0) return values[0]!;
  if (i >= values.length) return values[values.length - 1]!;
  const d0 = trace.distanceM[i - 1]!;
  const d1 = trace.distanceM[i]!;
  const f = d1 > d0 ? (distanceM - d0) / (d1 - d0) : 0;
  return values[i - 1]! + (values[i]! - values[i - 1]!) * f;
}

/**
 * When the car reached `distanceM` (epoch ms, interpolated). Where the car stood still at exactly
 * that distance, the arrival counts: a lap that ends in the pit box ends when the car got there.
 */
export function timeAtDistance(trace: DistanceTrace, distanceM: number): number {
  const i = firstIndexAtOrBeyond(trace, distanceM);
  if (i === 0) return trace.timestampMs[0]!;
  if (i >= trace.timestampMs.length) return trace.timestampMs[trace.timestampMs.length - 1]!;
  const d0 = trace.distanceM[i - 1]!;
  const d1 = trace.distanceM[i]!;
  const f = d1 > d0 ? (distanceM - d0) / (d1 - d0) : 1;
  return trace.timestampMs[i - 1]! + (trace.timestampMs[i]! - trace.timestampMs[i - 1]!) * f;
}

/** The distance driven by time `timestampMs` (interpolated, clamped to the trace). */
export function distanceAtTime(trace: DistanceTrace, timestampMs: number): number {
  const times = trace.timestampMs;
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (times[mid]! < timestampMs) low = mid + 1;
    else high = mid;
  }
  if (low === 0) return trace.distanceM[0]!;
  if (low >= times.length) return trace.distanceM[times.length - 1]!;
  const f = (timestampMs - times[low - 1]!) / (times[low]! - times[low - 1]!);
  return trace.distanceM[low - 1]! + (trace.distanceM[low]! - trace.distanceM[low - 1]!) * f;
}

/** Every channel sampled at `fromM + j × stepM` for j = 0..count−1. */
export function resample(trace: DistanceTrace, fromM: number, stepM: number, count: number): Record<EstimationChannel, Float64Array> {
  const out = { speedKmh: new Float64Array(count), throttleInput: new Float64Array(count), brakeInput: new Float64Array(count) };
  for (const channel of CHANNELS) {
    const column = out[channel];
    for (let j = 0; j < count; j += 1) column[j] = channelAt(trace, channel, fromM + j * stepM);
  }
  return out;
}
