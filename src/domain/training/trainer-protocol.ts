/**
 * The trainer process protocol, shared by the built-in trainer (src/workers/training/
 * trainer-process.ts) and external trainers (runtime/python/external_trainer_example.py):
 * a job spec goes in as JSON (first argument, or stdin), one JSON object per line comes out on
 * stdout. docs/training.md is the prose version of these schemas.
 */
import { z } from 'zod';

export const trainerJobSpecSchema = z.object({
  job_id: z.string().min(1),
  algorithm: z.string().min(1),
  environment: z.string().min(1),
  total_timesteps: z.number().int().min(1),
  hyperparameters: z.record(z.string(), z.unknown()).default({}),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** Directory the policy artefact is written into (created if missing). */
  artifact_dir: z.string().min(1),
  /** A progress line every this many environment steps (default: 1% of the run, at least 1). */
  progress_interval_timesteps: z.number().int().min(1).optional(),
  /** Deterministic-policy episodes run after training for mean_return. */
  evaluation_episodes: z.number().int().min(0).max(1000).default(10),
  /** Environment settings, e.g. pong's target_score; see docs/training.md. */
  environment_options: z.record(z.string(), z.number()).default({}),
});
export type TrainerJobSpec = z.infer<typeof trainerJobSpecSchema>;
export type TrainerJobSpecInput = z.input<typeof trainerJobSpecSchema>;

const finiteOrNull = z.number().nullable();

export const trainerProgressLineSchema = z.object({
  type: z.literal('progress'),
  timestep: z.number().int().min(0),
  total_timesteps: z.number().int().min(1),
  /** Mean return of episodes finished since the previous line; null until one has finished. */
  episode_reward: finiteOrNull,
  episode_length: finiteOrNull,
  fps: z.number().min(0),
  /** Mean training loss since the previous line; null until learning has started. */
  loss: finiteOrNull,
});

export const trainerCompletedLineSchema = z.object({
  type: z.literal('completed'),
  timestep: z.number().int().min(0),
  artifact_path: z.string().min(1),
  /** Mean return of the deterministic policy over evaluation_episodes; null if that was 0. */
  mean_return: finiteOrNull,
});

export const trainerFailedLineSchema = z.object({
  type: z.literal('failed'),
  reason: z.string(),
});

export const trainerCancelledLineSchema = z.object({
  type: z.literal('cancelled'),
  timestep: z.number().int().min(0),
});

export const trainerLineSchema = z.discriminatedUnion('type', [
  trainerProgressLineSchema,
  trainerCompletedLineSchema,
  trainerFailedLineSchema,
  trainerCancelledLineSchema,
]);
export type TrainerLine = z.infer<typeof trainerLineSchema>;
export type TrainerProgressLine = z.infer<typeof trainerProgressLineSchema>;

/**
 * Reads one stdout line of a trainer. Lines that are not protocol messages (a library printing
 * to stdout) come back as undefined so a host can log and skip them.
 */
export function parseTrainerLine(line: string): TrainerLine | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = trainerLineSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** Exit codes: completed and cancelled runs exit 0, a failed run exits 1, a bad invocation 2. */
export const TRAINER_EXIT_CODES = { success: 0, failed: 1, usage: 2 } as const;
