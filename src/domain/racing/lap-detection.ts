import { addPoint, accumulateInterval, finishLap, flagLap, startLap, type LapInProgress } from './lap-accumulator';
import { DEFAULT_LAP_DETECTOR_CONFIG, type LapDetectorConfig } from './lap-detector-config';
import type { LapCompleted, SectorSplit } from './lap-events';
import { maxPositionStep, speedSpikeFinding } from './plausibility';
import { batchLength, sampleAt, type TelemetryBatchColumns, type TelemetrySample } from './telemetry-batch';

/**
 * Incremental lap and sector detection (algorithm in docs/telemetry.md). `detectLaps` is a pure
 * fold over points: the state carries the last point and the lap in progress, so cutting the same
 * trace into batches anywhere gives the same laps as one batch.
 */

export interface LapDetectorState {
  previous: TelemetrySample | null;
  /** Last point that carried a position: crossings and splits interpolate from it across points without one. */
  lastPosition: { position: number; timestampMs: number } | null;
  lastSectorIndex: { index: number; timestampMs: number } | null;
  lap: LapInProgress | null;
  lapsStarted: number;
  /** Points dropped for not being later than the point before them (a batch replayed out of order). */
  skippedSamples: number;
}

export interface LapDetection {
  state: LapDetectorState;
  laps: LapCompleted[];
  sectors: SectorSplit[];
}

export const initialLapDetectorState = (): LapDetectorState => ({
  previous: null,
  lastPosition: null,
  lastSectorIndex: null,
  lap: null,
  lapsStarted: 0,
  skippedSamples: 0,
});

export function detectLaps(
  state: LapDetectorState,
  batch: TelemetryBatchColumns,
  config: LapDetectorConfig = DEFAULT_LAP_DETECTOR_CONFIG,
): LapDetection {
  const working = structuredClone(state);
  const output: Output = { laps: [], sectors: [] };
  for (let index = 0; index < batchLength(batch); index += 1) step(working, sampleAt(batch, index), config, output);
  return { state: working, ...output };
}

interface Output {
  laps: LapCompleted[];
  sectors: SectorSplit[];
}

function step(state: LapDetectorState, current: TelemetrySample, config: LapDetectorConfig, output: Output): void {
  const previous = state.previous;
  if (previous !== null && current.timestampMs <= previous.timestampMs) {
    state.skippedSamples += 1;
    return;
  }
  if (state.lap === null || previous === null) state.lap = openPartialLap(state, current, config);
  else state.lap = advance(state, state.lap, previous, current, config, output);
  addPoint(state.lap, current);
  state.previous = current;
  if (current.normalizedCarPosition !== null) {
    state.lastPosition = { position: current.normalizedCarPosition, timestampMs: current.timestampMs };
  }
  if (current.currentSectorIndex !== null) {
    state.lastSectorIndex = { index: current.currentSectorIndex, timestampMs: current.timestampMs };
  }
}

/** The first lap of a recording starts wherever the car is: its first sectors are unknown. */
function openPartialLap(state: LapDetectorState, first: TelemetrySample, config: LapDetectorConfig): LapInProgress {
  state.lapsStarted += 1;
  const lap = startLap(state.lapsStarted, first.timestampMs, false, config.sectorBoundaries.length + 1);
  if (config.sectorSource === 'auto' && first.currentSectorIndex !== null) lap.nextBoundary = first.currentSectorIndex;
  else if (first.normalizedCarPosition !== null) {
    const position = first.normalizedCarPosition;
    lap.nextBoundary = config.sectorBoundaries.filter((boundary) => boundary <= position).length;
  }
  return lap;
}

/** Position movement from the last positioned point to this one, wrapped to the shorter way round. */
interface Motion {
  from: number;
  to: number;
  fromMs: number;
  dtMs: number;
  /** Lap fraction moved, in (-0.5, 0.5]. */
  delta: number;
  forwardWrap: boolean;
  jump: boolean;
}

function motionTo(state: LapDetectorState, current: TelemetrySample, config: LapDetectorConfig): Motion | null {
  const last = state.lastPosition;
  const to = current.normalizedCarPosition;
  if (last === null || to === null) return null;
  const raw = to - last.position;
  const delta = raw < -0.5 ? raw + 1 : raw > 0.5 ? raw - 1 : raw;
  const dtMs = current.timestampMs - last.timestampMs;
  return {
    from: last.position,
    to,
    fromMs: last.timestampMs,
    dtMs,
    delta,
    forwardWrap: raw < 0 && delta > 0,
    jump: Math.abs(delta) > maxPositionStep(dtMs, config),
  };
}

function advance(
  state: LapDetectorState,
  lap: LapInProgress,
  previous: TelemetrySample,
  current: TelemetrySample,
  config: LapDetectorConfig,
  output: Output,
): LapInProgress {
  const dtMs = current.timestampMs - previous.timestampMs;
  const gap = dtMs > config.maxGapMs;
  if (gap) flagLap(lap, 'incomplete', `data gap of ${dtMs} ms`);
  const spike = gap ? null : speedSpikeFinding(previous, current, config);
  if (spike !== null) flagLap(lap, 'implausible', spike);

  const motion = motionTo(state, current, config);
  const positionGap = motion !== null && motion.dtMs > config.maxGapMs && motion.dtMs > dtMs;
  if (positionGap) flagLap(lap, 'incomplete', `no position for ${motion.dtMs} ms`);
  if (motion?.jump) {
    flagLap(lap, 'incomplete', `position jumped from ${motion.from.toFixed(4)} to ${motion.to.toFixed(4)} in ${motion.dtMs} ms`);
  }
  const crossingAtMs = motion === null ? counterCrossingAt(lap, previous, current, config) : positionCrossingAt(lap, motion, config);
  const useSectorIndex = config.sectorSource === 'auto' && current.currentSectorIndex !== null && state.lastSectorIndex !== null;

  if (crossingAtMs === null) {
    accumulateInterval(lap, previous, current, 0, 1);
    if (motion !== null) followMotion(lap, motion, useSectorIndex, config, output);
    if (useSectorIndex) splitOnSectorIndex(lap, state, current, config, output);
    return lap;
  }

  const endedAtMs = Math.max(crossingAtMs, lap.startedAtMs);
  const fraction = Math.min(Math.max((endedAtMs - previous.timestampMs) / dtMs, 0), 1);
  accumulateInterval(lap, previous, current, 0, fraction);
  if (motion !== null) {
    if (!useSectorIndex && !motion.jump) passBoundaries(lap, motion.from, 1, motion.fromMs, endedAtMs, config, output);
    lap.progress += 1 - motion.from;
  }
  const completed = finishLap(lap, endedAtMs, config);
  output.laps.push(completed);
  const lastSectorTimeMs = completed.sectorTimesMs[completed.sectorTimesMs.length - 1];
  if (lastSectorTimeMs !== null && lastSectorTimeMs !== undefined) {
    output.sectors.push({ lapNumber: completed.lapNumber, sectorNumber: completed.sectorTimesMs.length, sectorTimeMs: lastSectorTimeMs, splitAtMs: completed.endedAtMs });
  }

  state.lapsStarted += 1;
  const next = startLap(state.lapsStarted, endedAtMs, true, config.sectorBoundaries.length + 1);
  next.maxCompletedLapsSeen = lap.maxCompletedLapsSeen;
  // ACC clears its invalid flag at the line, but a logger may read the old value once more.
  next.ignoreCutUntilMs = completed.invalidReasons.includes('cut') ? endedAtMs + config.cutFlagGraceMs : null;
  if (gap || positionGap || motion?.jump) flagLap(next, 'incomplete', 'the lap started inside a data gap');
  accumulateInterval(next, previous, current, fraction, 1);
  if (motion !== null) {
    next.progress = motion.to;
    next.maxProgress = motion.to;
    if (!useSectorIndex && !motion.jump) passBoundaries(next, 0, motion.to, endedAtMs, current.timestampMs, config, output);
  }
  return next;
}

/** Forward wrap of the position through the line, once the lap is armed (hysteresis against jitter). */
function positionCrossingAt(lap: LapInProgress, motion: Motion, config: LapDetectorConfig): number | null {
  if (!motion.forwardWrap) return null;
  if (lap.startedAtCrossing && lap.progress < config.armProgress) return null;
  return motion.fromMs + ((1 - motion.from) / motion.delta) * motion.dtMs;
}

/**
 * Without positions, the sim's completed_laps counter marks the line; the sim's lap timer then
 * says when the new lap began. The minimum lap length keeps a lagging counter from counting twice.
 */
function counterCrossingAt(lap: LapInProgress, previous: TelemetrySample, current: TelemetrySample, config: LapDetectorConfig): number | null {
  if (current.completedLaps === null || lap.maxCompletedLapsSeen === null) return null;
  if (current.completedLaps <= lap.maxCompletedLapsSeen) return null;
  if (lap.startedAtCrossing && current.timestampMs - lap.startedAtMs < config.minCounterLapMs) return null;
  if (current.currentLapTimeMs === null) return (previous.timestampMs + current.timestampMs) / 2;
  return Math.min(Math.max(current.timestampMs - current.currentLapTimeMs, previous.timestampMs), current.timestampMs);
}

function followMotion(lap: LapInProgress, motion: Motion, useSectorIndex: boolean, config: LapDetectorConfig, output: Output): void {
  lap.progress += motion.delta;
  if (motion.jump) {
    // A teleport is already an incomplete lap; it is not also "driving backwards".
    lap.maxProgress = lap.progress;
    if (motion.delta > 0) skipBoundaries(lap, motion.from, motion.to, config);
    return;
  }
  if (lap.progress < lap.maxProgress - config.backwardsToleranceLap) {
    flagLap(lap, 'implausible', `position ran backwards by ${((lap.maxProgress - lap.progress) * 100).toFixed(2)} % of the lap`);
  }
  lap.maxProgress = Math.max(lap.maxProgress, lap.progress);
  if (!useSectorIndex && motion.delta > 0 && !motion.forwardWrap) {
    passBoundaries(lap, motion.from, motion.to, motion.fromMs, motion.fromMs + motion.dtMs, config, output);
  }
}

/** Records the splits of boundaries in (fromPosition, toPosition], timed by linear interpolation. */
function passBoundaries(
  lap: LapInProgress,
  fromPosition: number,
  toPosition: number,
  fromMs: number,
  toMs: number,
  config: LapDetectorConfig,
  output: Output,
): void {
  const boundaries = config.sectorBoundaries;
  while (lap.nextBoundary < boundaries.length) {
    const boundary = boundaries[lap.nextBoundary]!;
    if (boundary <= fromPosition || boundary > toPosition) return;
    const atMs = fromMs + ((boundary - fromPosition) / (toPosition - fromPosition)) * (toMs - fromMs);
    recordSplit(lap, atMs, output);
  }
}

function skipBoundaries(lap: LapInProgress, fromPosition: number, toPosition: number, config: LapDetectorConfig): void {
  const boundaries = config.sectorBoundaries;
  while (lap.nextBoundary < boundaries.length) {
    const boundary = boundaries[lap.nextBoundary]!;
    if (boundary <= fromPosition || boundary > toPosition) return;
    lap.nextBoundary += 1;
  }
}

/** The sim's own sectors: a split when current_sector_index steps to the next sector. */
function splitOnSectorIndex(lap: LapInProgress, state: LapDetectorState, current: TelemetrySample, config: LapDetectorConfig, output: Output): void {
  const last = state.lastSectorIndex;
  if (last === null || current.currentSectorIndex !== last.index + 1) return;
  if (last.index !== lap.nextBoundary || lap.nextBoundary >= config.sectorBoundaries.length) return;
  // The sim does not say where in between the boundary lies: the midpoint halves the worst error.
  recordSplit(lap, (last.timestampMs + current.timestampMs) / 2, output);
}

function recordSplit(lap: LapInProgress, atMs: number, output: Output): void {
  const boundaryIndex = lap.nextBoundary;
  lap.splitAtMs[boundaryIndex] = atMs;
  lap.nextBoundary += 1;
  const sectorStartMs = boundaryIndex === 0 ? (lap.startedAtCrossing ? lap.startedAtMs : null) : lap.splitAtMs[boundaryIndex - 1];
  if (sectorStartMs === null || sectorStartMs === undefined) return;
  output.sectors.push({
    lapNumber: lap.lapNumber,
    sectorNumber: boundaryIndex + 1,
    sectorTimeMs: Math.round(atMs) - Math.round(sectorStartMs),
    splitAtMs: Math.round(atMs),
  });
}
