/**
 * Tunables of lap detection and plausibility (docs/telemetry.md explains each default).
 * A track whose length is known should pass `trackLengthM`: the position-jump and lap-time
 * checks then use physics instead of generous fixed bounds.
 */
export interface LapDetectorConfig {
  /** Normalized positions where sectors 2..n start; ascending in (0, 1). Also fixes the sector count. */
  sectorBoundaries: readonly number[];
  /** 'auto': split on current_sector_index changes when points carry it, else on `sectorBoundaries`. */
  sectorSource: 'auto' | 'position';
  /** Share of the lap a car must cover before a line crossing completes the lap (hysteresis). */
  armProgress: number;
  /** Counter-only crossings (no positions) need at least this long a lap: shields from sim update lag. */
  minCounterLapMs: number;
  /** A longer silence between two points (or two positioned points) makes the lap incomplete. */
  maxGapMs: number;
  trackLengthM: number | null;
  /** Bound on the car's speed used for position-jump and minimum lap time checks. */
  maxSpeedKmh: number;
  /** Position step (lap fraction) treated as a teleport when the track length is unknown. */
  unknownLengthMaxPositionStep: number;
  /** |dv/dt| beyond this is a speed spike no car produces (6 g, past F1 braking). */
  maxAccelerationMps2: number;
  /** Backwards travel (lap fraction) tolerated before a lap counts as driven backwards (~8 m on 4 km). */
  backwardsToleranceLap: number;
  /** The sim's invalid flag may still be set this long after the line when the previous lap was cut. */
  cutFlagGraceMs: number;
  /** Relative mismatch tolerated between distances from speed, coordinates and the track length. */
  distanceTolerance: number;
  /** Disagreement tolerated between the lap time from timestamps and from the sim's lap timer. */
  simTimerToleranceMs: number;
  /** A lap sampled more sparsely than this cannot be verified for leaderboards. */
  minVerifiedSampleRateHz: number;
}

export const DEFAULT_LAP_DETECTOR_CONFIG: LapDetectorConfig = {
  sectorBoundaries: [1 / 3, 2 / 3],
  sectorSource: 'auto',
  armProgress: 0.5,
  minCounterLapMs: 10_000,
  maxGapMs: 1_000,
  trackLengthM: null,
  maxSpeedKmh: 500,
  unknownLengthMaxPositionStep: 0.1,
  maxAccelerationMps2: 60,
  backwardsToleranceLap: 0.002,
  cutFlagGraceMs: 300,
  distanceTolerance: 0.15,
  simTimerToleranceMs: 250,
  minVerifiedSampleRateHz: 10,
};

export function lapDetectorConfig(overrides: Partial<LapDetectorConfig> = {}): LapDetectorConfig {
  return { ...DEFAULT_LAP_DETECTOR_CONFIG, ...overrides };
}
