import { withDistance } from './distance-trace';
import { estimatedLapCompleted } from './estimated-laps';
import type { LapDetectorConfig } from './lap-detector-config';
import type { LapCompleted } from './lap-events';
import { estimateLapBoundaries } from './lap-estimation';
import type { LapEstimatorConfig } from './lap-estimator-config';
import { batchLength, sampleAt, type TelemetryBatchColumns, type TelemetrySample } from './telemetry-batch';

/**
 * Lap estimation inside the TelemetrySession aggregate (docs/telemetry.md, "Laps without
 * positions"). Estimation runs at checkpoints of the session's own clock, every
 * `checkpointIntervalMs` of telemetry after its first point, over the points up to that checkpoint;
 * and once more, over everything, when the session is completed. Laps found are emitted as
 * LapCompleted events (`estimated: true`) and never revised: later runs continue from the last
 * emitted boundary. Because checkpoints depend only on timestamps, not on how the points were cut
 * into uploads, the same points give the same laps however they were batched, and the events make
 * replays give exactly the laps the live path gave.
 */

export interface LapEstimationState {
  /** Uploaded batches still needed (shared with the events, never copied), oldest first. */
  batches: TelemetryBatchColumns[];
  firstTimestampMs: number | null;
  lastTimestampMs: number | null;
  /** The last boundaries of emitted laps (ascending, at most templateLaps + 1). */
  boundariesMs: number[];
  lapsEmitted: number;
}

export const initialLapEstimation = (): LapEstimationState => ({
  batches: [],
  firstTimestampMs: null,
  lastTimestampMs: null,
  boundariesMs: [],
  lapsEmitted: 0,
});

/** Whether a session's laps must be estimated: its first upload carried neither positions nor a lap counter. */
export const needsEstimation = (columns: TelemetryBatchColumns): boolean =>
  columns.normalizedCarPosition === undefined && columns.completedLaps === undefined;

/** A batch was recorded: buffer it, and drop batches no future run can read. */
export function estimationWithBatch(state: LapEstimationState, columns: TelemetryBatchColumns, config: LapEstimatorConfig): LapEstimationState {
  const last = columns.timestampMs[batchLength(columns) - 1]!;
  return trim({
    ...state,
    batches: [...state.batches, columns],
    firstTimestampMs: state.firstTimestampMs ?? columns.timestampMs[0]!,
    lastTimestampMs: last,
  }, config);
}

/** An estimated lap was emitted: its end is the next run's starting boundary. */
export function estimationWithLap(state: LapEstimationState, lap: LapCompleted, config: LapEstimatorConfig): LapEstimationState {
  // The partial first lap (no sector 1: it did not start at a boundary) only gives its end.
  const partial = lap.sectorTimesMs[0] === null;
  const boundaries = state.boundariesMs.length > 0 ? [...state.boundariesMs, lap.endedAtMs] : partial ? [lap.endedAtMs] : [lap.startedAtMs, lap.endedAtMs];
  return trim({ ...state, boundariesMs: boundaries.slice(-(config.templateLaps + 1)), lapsEmitted: state.lapsEmitted + 1 }, config);
}

/**
 * Drops the batches no later run reads, exactly (so a run sees the same window however the
 * points were batched): once laps exist, runs start at the last point at or before the oldest
 * kept boundary; before, at the first point of the latest `maxSearchHistoryMs`.
 */
function trim(state: LapEstimationState, config: LapEstimatorConfig): LapEstimationState {
  const locked = state.boundariesMs.length >= 2;
  const oldestBoundaryMs = state.boundariesMs[0] ?? 0;
  const searchFromMs = (state.lastTimestampMs ?? 0) - config.maxSearchHistoryMs;
  let drop = 0;
  while (drop < state.batches.length - 1) {
    const batch = state.batches[drop]!;
    const next = state.batches[drop + 1]!;
    const unread = locked ? next.timestampMs[0]! <= oldestBoundaryMs : batch.timestampMs[batchLength(batch) - 1]! < searchFromMs;
    if (!unread) break;
    drop += 1;
  }
  return drop === 0 ? state : { ...state, batches: state.batches.slice(drop) };
}

/**
 * The laps the checkpoints passed by the latest batch settle. `state` already holds that batch
 * (estimationWithBatch); `previousLastMs` is the last timestamp before it.
 */
export function decideEstimatedLaps(
  state: LapEstimationState,
  previousLastMs: number | null,
  detectorConfig: LapDetectorConfig,
  config: LapEstimatorConfig,
): LapCompleted[] {
  if (state.firstTimestampMs === null || state.lastTimestampMs === null) return [];
  const first = state.firstTimestampMs;
  const interval = config.checkpointIntervalMs;
  let current = state;
  const laps: LapCompleted[] = [];
  const fromIndex = previousLastMs === null ? 1 : Math.floor((previousLastMs - first) / interval) + 1;
  const toIndex = Math.floor((state.lastTimestampMs - first) / interval);
  if (fromIndex > toIndex) return laps;
  const samples = bufferedSamples(state);
  let cursor = 0;
  for (let k = fromIndex; k <= toIndex; k += 1) {
    const checkpointMs = first + k * interval;
    // A checkpoint with no new point since the one before would rerun on the same data: skip it.
    while (cursor < samples.length && samples[cursor]!.timestampMs <= checkpointMs - interval) cursor += 1;
    if (cursor >= samples.length || samples[cursor]!.timestampMs > checkpointMs) continue;
    const found = run(current, samples, checkpointMs, false, detectorConfig, config);
    for (const lap of found) {
      laps.push(lap);
      current = estimationWithLap(current, lap, config);
    }
  }
  return laps;
}

/** The laps left when the session is completed: everything up to the last point, ends refined one-sided. */
export function decideFinalEstimatedLaps(state: LapEstimationState, detectorConfig: LapDetectorConfig, config: LapEstimatorConfig): LapCompleted[] {
  if (state.lastTimestampMs === null) return [];
  return run(state, bufferedSamples(state), state.lastTimestampMs, true, detectorConfig, config);
}

function bufferedSamples(state: LapEstimationState): TelemetrySample[] {
  const samples: TelemetrySample[] = [];
  for (const batch of state.batches) for (let i = 0; i < batchLength(batch); i += 1) samples.push(sampleAt(batch, i));
  return samples;
}

function run(
  state: LapEstimationState,
  samples: readonly TelemetrySample[],
  untilMs: number,
  final: boolean,
  detectorConfig: LapDetectorConfig,
  config: LapEstimatorConfig,
): LapCompleted[] {
  let end = samples.length;
  while (end > 0 && samples[end - 1]!.timestampMs > untilMs) end -= 1;
  const locked = state.boundariesMs.length >= 2;
  let start = 0;
  if (locked) {
    const from = state.boundariesMs[0]!;
    while (start + 1 < end && samples[start + 1]!.timestampMs <= from) start += 1;
  } else {
    const from = untilMs - config.maxSearchHistoryMs;
    while (start < end && samples[start]!.timestampMs < from) start += 1;
  }
  const window = samples.slice(start, end);
  if (window.length < 3) return [];
  const trace = withDistance({
    timestampMs: window.map((s) => s.timestampMs),
    speedKmh: window.map((s) => s.speedKmh),
    throttleInput: window.map((s) => s.throttleInput),
    brakeInput: window.map((s) => s.brakeInput),
  });
  // Before the first laps, the lap counter starts at 1 with the partial first lap.
  const estimation = estimateLapBoundaries(trace, locked ? state.boundariesMs : [], final, config, detectorConfig.trackLengthM);
  const lastEmittedEndMs = state.boundariesMs[state.boundariesMs.length - 1] ?? null;
  const fresh = estimation.laps.filter((bounds) => lastEmittedEndMs === null || bounds.startMs >= lastEmittedEndMs);
  return fresh.map((bounds, i) => estimatedLapCompleted(state.lapsEmitted + i + 1, bounds, lapSamples(window, bounds), detectorConfig, config));
}

/** The lap's points plus one on each side (for the intervals across its boundaries). */
function lapSamples(window: readonly TelemetrySample[], bounds: { startMs: number; endMs: number }): TelemetrySample[] {
  let from = 0;
  while (from + 1 < window.length && window[from + 1]!.timestampMs <= bounds.startMs) from += 1;
  let to = from;
  while (to < window.length && window[to]!.timestampMs < bounds.endMs) to += 1;
  return window.slice(from, Math.min(to + 1, window.length));
}
