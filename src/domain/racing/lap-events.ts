import { z } from 'zod';

/** Why a lap does not count (docs/telemetry.md, "Validity"). A lap may carry several. */
export const LAP_INVALID_REASONS = ['pit', 'cut', 'incomplete', 'implausible'] as const;
export type LapInvalidReason = (typeof LAP_INVALID_REASONS)[number];

/** Data of the LapCompleted event: everything later read models and analytics need about one lap. */
export const LapCompletedDataSchema = z.object({
  /** 1-based count of line crossings in the session; the partial first lap is lap 1. */
  lapNumber: z.number().int().positive(),
  lapTimeMs: z.number().int().nonnegative(),
  /** One per sector; null where the split was not observed (partial out-lap, missing data). */
  sectorTimesMs: z.array(z.number().int().nullable()),
  valid: z.boolean(),
  invalidReasons: z.array(z.enum(LAP_INVALID_REASONS)),
  /** One sentence per finding, e.g. "data gap of 3200 ms"; at most a few per reason. */
  invalidDetails: z.array(z.string()),
  /** Valid and passed every plausibility check on its telemetry (leaderboards show this). */
  isVerified: z.boolean(),
  /**
   * Found without positions, from the periodicity of speed and pedals (lap-estimation.ts): the
   * boundaries are estimates, so the lap is never verified. Absent in events older than estimation.
   */
  estimated: z.boolean().default(false),
  startedAtMs: z.number().int(),
  endedAtMs: z.number().int(),
  sampleCount: z.number().int().nonnegative(),
  maxSpeedKmh: z.number(),
  meanSpeedKmh: z.number(),
  /** Integrated from the speed channel. */
  distanceM: z.number(),
  /** Shares of the lap time at full throttle (>= 0.95), braking (>= 0.05), and coasting (neither pedal >= 0.05). */
  fullThrottleFraction: z.number(),
  brakingFraction: z.number(),
  coastingFraction: z.number(),
});
export type LapCompleted = z.infer<typeof LapCompletedDataSchema>;

/** A sector boundary passed (live timing); the last sector's split comes with the lap's completion. */
export const SectorSplitSchema = z.object({
  lapNumber: z.number().int().positive(),
  /** 1-based, as drivers say "sector 2". */
  sectorNumber: z.number().int().positive(),
  sectorTimeMs: z.number().int().nonnegative(),
  splitAtMs: z.number().int(),
});
export type SectorSplit = z.infer<typeof SectorSplitSchema>;
