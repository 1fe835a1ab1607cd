import { toColumns, type TelemetryBatchColumns, type TelemetrySample } from '../../../src/domain/racing/telemetry-batch';

/** Hand-built traces for the detector tests: a car lapping at constant speed, points at a fixed rate. */

export const T0 = Date.UTC(2024, 0, 15, 14, 30, 0);

export function sample(overrides: Partial<TelemetrySample> & { timestampMs: number }): TelemetrySample {
  return {
    speedKmh: 180,
    throttleInput: 1,
    brakeInput: 0,
    steeringInput: 0,
    gear: 5,
    rpm: 7000,
    completedLaps: null,
    normalizedCarPosition: null,
    currentLapTimeMs: null,
    currentSectorIndex: null,
    isInPit: null,
    isInPitLane: null,
    isValidLap: null,
    worldX: null,
    worldY: null,
    worldZ: null,
    ...overrides,
  };
}

export interface LappingOptions {
  lapTimeMs: number;
  startPosition: number;
  durationMs: number;
  intervalMs: number;
  /** Track length: sets the constant speed (length / lap time). */
  trackLengthM?: number;
  /** Offset of the first point from T0 (so crossings do not fall on points). */
  firstOffsetMs?: number;
  extra?: (position: number, elapsedMs: number, lapsDone: number) => Partial<TelemetrySample>;
}

/** Position advances uniformly: 1/lapTimeMs per ms, wrapping at the line. */
export function lapping(options: LappingOptions): TelemetrySample[] {
  const trackLengthM = options.trackLengthM ?? 4000;
  const speedKmh = (trackLengthM / (options.lapTimeMs / 1000)) * 3.6;
  const samples: TelemetrySample[] = [];
  for (let elapsed = 0; elapsed <= options.durationMs; elapsed += options.intervalMs) {
    const progress = options.startPosition + elapsed / options.lapTimeMs;
    const position = progress - Math.floor(progress);
    samples.push(
      sample({
        timestampMs: T0 + (options.firstOffsetMs ?? 0) + elapsed,
        speedKmh,
        normalizedCarPosition: position,
        ...(options.extra?.(position, elapsed, Math.floor(progress)) ?? {}),
      }),
    );
  }
  return samples;
}

export const columns = (samples: readonly TelemetrySample[]): TelemetryBatchColumns => toColumns(samples);
