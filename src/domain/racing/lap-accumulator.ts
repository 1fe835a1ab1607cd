import type { LapDetectorConfig } from './lap-detector-config';
import { LAP_INVALID_REASONS, type LapCompleted, type LapInvalidReason } from './lap-events';
import { hasVerifiableEvidence, lapPlausibilityFindings, type LapEvidence } from './plausibility';
import type { TelemetrySample } from './telemetry-batch';

/**
 * The lap in progress: what the detector has measured since the lap started. Plain JSON, so the
 * detector state can live in an aggregate's state or a snapshot.
 */
export interface LapInProgress {
  lapNumber: number;
  /** Exact (interpolated, fractional) crossing time, or the first point's time for a partial lap. */
  startedAtMs: number;
  /** False for the partial first lap (recording or out-lap started mid-lap). */
  startedAtCrossing: boolean;
  /** Time each sector boundary was passed; null until passed, or if it was skipped. */
  splitAtMs: Array<number | null>;
  nextBoundary: number;
  /** Lap fraction covered since the start, from wrapped position deltas; arms the line. */
  progress: number;
  maxProgress: number;
  findings: Record<LapInvalidReason, string[]>;
  findingCounts: Record<LapInvalidReason, number>;
  sampleCount: number;
  positionSampleCount: number;
  maxSpeedKmh: number;
  distanceBySpeedM: number;
  distanceByWorldM: number;
  worldDistanceComplete: boolean;
  fullThrottleMs: number;
  brakingMs: number;
  coastingMs: number;
  lastSimLapTimeMs: number | null;
  lastSimLapTimeAtMs: number | null;
  /** While the previous lap's invalid flag may linger after the line, it is not held against this lap. */
  ignoreCutUntilMs: number | null;
  /** Highest completed_laps seen so far: a counter-only crossing needs the counter to pass it. */
  maxCompletedLapsSeen: number | null;
}

const MAX_FINDINGS_PER_REASON = 3;
const FULL_THROTTLE = 0.95;
const PEDAL_ON = 0.05;

export function startLap(lapNumber: number, startedAtMs: number, startedAtCrossing: boolean, sectorCount: number): LapInProgress {
  return {
    lapNumber,
    startedAtMs,
    startedAtCrossing,
    splitAtMs: new Array<number | null>(Math.max(sectorCount - 1, 0)).fill(null),
    nextBoundary: 0,
    progress: 0,
    maxProgress: 0,
    findings: { pit: [], cut: [], incomplete: [], implausible: [] },
    findingCounts: { pit: 0, cut: 0, incomplete: 0, implausible: 0 },
    sampleCount: 0,
    positionSampleCount: 0,
    maxSpeedKmh: 0,
    distanceBySpeedM: 0,
    distanceByWorldM: 0,
    worldDistanceComplete: true,
    fullThrottleMs: 0,
    brakingMs: 0,
    coastingMs: 0,
    lastSimLapTimeMs: null,
    lastSimLapTimeAtMs: null,
    ignoreCutUntilMs: null,
    maxCompletedLapsSeen: null,
  };
}

export function flagLap(lap: LapInProgress, reason: LapInvalidReason, detail: string): void {
  lap.findingCounts[reason] += 1;
  const details = lap.findings[reason];
  // Repeats (every point of a pit stop says "in the pit lane") add nothing but state size; the
  // first few distinct findings explain the verdict well enough.
  if (details.length < MAX_FINDINGS_PER_REASON && !details.includes(detail)) details.push(detail);
}

const isFlagged = (lap: LapInProgress, reason: LapInvalidReason): boolean => lap.findingCounts[reason] > 0;

/** Adds the part [from, to] (fractions of the interval) of the interval between two points. */
export function accumulateInterval(lap: LapInProgress, previous: TelemetrySample, current: TelemetrySample, from: number, to: number): void {
  const share = to - from;
  if (share <= 0) return;
  const dtMs = (current.timestampMs - previous.timestampMs) * share;
  const speedAt = (fraction: number) => previous.speedKmh + (current.speedKmh - previous.speedKmh) * fraction;
  lap.distanceBySpeedM += ((speedAt(from) + speedAt(to)) / 2 / 3.6) * (dtMs / 1000);
  const stepM = worldStepM(previous, current);
  if (stepM === null) lap.worldDistanceComplete = false;
  else lap.distanceByWorldM += stepM * share;
  // Inputs hold their value until the next point (what a logger sampling the sim sees).
  if (previous.throttleInput >= FULL_THROTTLE) lap.fullThrottleMs += dtMs;
  if (previous.brakeInput >= PEDAL_ON) lap.brakingMs += dtMs;
  if (previous.throttleInput < PEDAL_ON && previous.brakeInput < PEDAL_ON) lap.coastingMs += dtMs;
}

function worldStepM(a: TelemetrySample, b: TelemetrySample): number | null {
  if (a.worldX === null || a.worldY === null || a.worldZ === null) return null;
  if (b.worldX === null || b.worldY === null || b.worldZ === null) return null;
  return Math.hypot(b.worldX - a.worldX, b.worldY - a.worldY, b.worldZ - a.worldZ);
}

/** Records what a single point says about its lap: pit, the sim's invalid flag, top speed, timer. */
export function addPoint(lap: LapInProgress, sample: TelemetrySample): void {
  lap.sampleCount += 1;
  if (sample.normalizedCarPosition !== null) lap.positionSampleCount += 1;
  lap.maxSpeedKmh = Math.max(lap.maxSpeedKmh, sample.speedKmh);
  if (sample.isInPit === true || sample.isInPitLane === true) {
    flagLap(lap, 'pit', sample.isInPit === true ? 'stopped in the pit box' : 'drove through the pit lane');
  }
  const inGrace = lap.ignoreCutUntilMs !== null && sample.timestampMs <= lap.ignoreCutUntilMs;
  if (sample.isValidLap === false && !inGrace) flagLap(lap, 'cut', 'the sim invalidated the lap (track limits)');
  if (sample.currentLapTimeMs !== null) {
    lap.lastSimLapTimeMs = sample.currentLapTimeMs;
    lap.lastSimLapTimeAtMs = sample.timestampMs;
  }
  if (sample.completedLaps !== null) lap.maxCompletedLapsSeen = Math.max(lap.maxCompletedLapsSeen ?? 0, sample.completedLaps);
}

/** Closes the lap at `endedAtMs` (exact crossing time) and builds the LapCompleted data. */
export function finishLap(lap: LapInProgress, endedAtMs: number, config: LapDetectorConfig): LapCompleted {
  // Rounding the boundary instants (not the differences) keeps sector times summing to the lap time.
  const startedAt = Math.round(lap.startedAtMs);
  const endedAt = Math.round(endedAtMs);
  const boundaries = [lap.startedAtCrossing ? startedAt : null, ...lap.splitAtMs.map((at) => (at === null ? null : Math.round(at))), endedAt];
  const sectorTimesMs = boundaries.slice(1).map((at, index) => {
    const from = boundaries[index];
    return at === null || from === null || from === undefined ? null : at - from;
  });
  const lapTimeMs = endedAt - startedAt;
  const exactDurationMs = Math.max(endedAtMs - lap.startedAtMs, 1e-9);

  if (!lap.startedAtCrossing) flagLap(lap, 'incomplete', 'partial lap: the recording or out-lap started after the line');
  // A missing split (sim with fewer sectors than configured) leaves a null sector time but does not
  // void the lap: the lap time itself was measured line to line.

  const evidence: LapEvidence = {
    lapTimeMs,
    distanceBySpeedM: lap.distanceBySpeedM,
    distanceByWorldM: lap.worldDistanceComplete ? lap.distanceByWorldM : null,
    maxSpeedKmh: lap.maxSpeedKmh,
    simLapTimeMs:
      lap.startedAtCrossing && lap.lastSimLapTimeMs !== null && lap.lastSimLapTimeAtMs !== null
        ? lap.lastSimLapTimeMs + (endedAtMs - lap.lastSimLapTimeAtMs)
        : null,
    sampleCount: lap.sampleCount,
    positionSampleCount: lap.positionSampleCount,
  };
  // Lap-level physics only means something for a lap driven line to line without holes.
  if (!isFlagged(lap, 'incomplete')) {
    for (const finding of lapPlausibilityFindings(evidence, config)) flagLap(lap, 'implausible', finding);
  }

  const invalidReasons = LAP_INVALID_REASONS.filter((reason) => isFlagged(lap, reason));
  const invalidDetails = invalidReasons.flatMap((reason) => lap.findings[reason]);
  const valid = invalidReasons.length === 0;
  return {
    lapNumber: lap.lapNumber,
    lapTimeMs,
    sectorTimesMs,
    valid,
    invalidReasons,
    invalidDetails,
    isVerified: valid && hasVerifiableEvidence(evidence, config),
    estimated: false,
    startedAtMs: startedAt,
    endedAtMs: endedAt,
    sampleCount: lap.sampleCount,
    maxSpeedKmh: round(lap.maxSpeedKmh, 2),
    meanSpeedKmh: round((lap.distanceBySpeedM / (exactDurationMs / 1000)) * 3.6, 2),
    distanceM: round(lap.distanceBySpeedM, 1),
    fullThrottleFraction: round(lap.fullThrottleMs / exactDurationMs, 4),
    brakingFraction: round(lap.brakingMs / exactDurationMs, 4),
    coastingFraction: round(lap.coastingMs / exactDurationMs, 4),
  };
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
