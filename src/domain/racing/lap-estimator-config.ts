/** Tunables of lap estimation without positions (docs/telemetry.md, "Laps without positions"). */
export interface LapEstimatorConfig {
  /** Estimation runs each time the session's data passes another multiple of this (trace time). */
  checkpointIntervalMs: number;
  /** Before the first laps: at most this much of the latest data is searched for the lap length. */
  maxSearchHistoryMs: number;
  /** Grid of the lap-length search, metres driven. */
  searchStepM: number;
  minLapM: number;
  maxLapM: number;
  /** Weakest autocorrelation peak that counts as a repeating lap. */
  minCorrelation: number;
  /** A shorter peak this strong (share of the best), of which the best is a multiple, is the lap. */
  peakShare: number;
  /** Data needed before a lap length is trusted, in laps. */
  minPeriodsOfData: number;
  /** Known track length: the lap length from speed must match it within this share. */
  lengthTolerance: number;
  /** Template resolution, metres. */
  templateStepM: number;
  /** Laps averaged into the template when continuing. */
  templateLaps: number;
  /** Half-width of the stretch around a boundary matched against the template, share of a lap. */
  refineWindowLap: number;
  /** Largest move of a boundary from its prediction, share of a lap. */
  refineShiftLap: number;
  /** A window cut shorter than this (ends of the data) is not matched: the prediction stands. */
  minRefineWindowLap: number;
  /** A best match weaker than this keeps the prediction (pit lane, spin). */
  minRefineCorrelation: number;
  /** Below this speed for `standstillMs`, the car stopped: the lap counts as a pit lap. */
  standstillKmh: number;
  standstillMs: number;
}

export const DEFAULT_LAP_ESTIMATOR_CONFIG: LapEstimatorConfig = {
  checkpointIntervalMs: 30_000,
  maxSearchHistoryMs: 20 * 60_000,
  searchStepM: 20,
  minLapM: 300,
  maxLapM: 25_000,
  minCorrelation: 0.5,
  peakShare: 0.75,
  minPeriodsOfData: 2.2,
  lengthTolerance: 0.15,
  templateStepM: 5,
  templateLaps: 3,
  refineWindowLap: 0.25,
  refineShiftLap: 0.02,
  minRefineWindowLap: 0.1,
  minRefineCorrelation: 0.5,
  standstillKmh: 2,
  standstillMs: 2_000,
};
