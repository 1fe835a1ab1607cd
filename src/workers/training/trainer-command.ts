/**
 * Which command runs a job's trainer, and with what environment.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExternalTrainers } from '../../domain/training/catalog';
import type { TrainingRunner } from '../../domain/training/training-job';

/**
 * The built-in trainer next to this file. Compiled (`dist/`), that is trainer-process.js run by
 * this node binary. Run from TypeScript sources (ts-jest, ts-node), there is no .js beside it, so
 * the .ts source runs through ts-node's transpile-only hook: the trainer is always the same code
 * as the worker, never a stale build.
 */
export function builtInTrainerCommand(): string[] {
  const compiled = join(__dirname, 'trainer-process.js');
  if (__filename.endsWith('.js') && existsSync(compiled)) return [process.execPath, compiled];
  return [process.execPath, '-r', require.resolve('ts-node/register/transpile-only'), join(__dirname, 'trainer-process.ts')];
}

/** The argv for a job, or the reason it cannot run here (an external trainer no longer configured). */
export function trainerCommandFor(
  job: { runner: TrainingRunner; environment: string; algorithm: string },
  externalTrainers: ExternalTrainers,
): { command: string[] } | { problem: string } {
  if (job.runner === 'built_in') return { command: builtInTrainerCommand() };
  const trainer = externalTrainers[job.environment];
  if (!trainer) {
    return { problem: `no external trainer is configured for ${job.environment} on this worker (TRAINING_EXTERNAL_TRAINERS)` };
  }
  if (!trainer.algorithms.some((name) => name.toLowerCase() === job.algorithm.toLowerCase())) {
    return { problem: `the external trainer for ${job.environment} does not offer ${job.algorithm} (it offers ${trainer.algorithms.join(', ')})` };
  }
  return { command: [...trainer.command] };
}

/** What a trainer inherits from the worker's environment: the basics, never the server's secrets. */
const INHERITED_VARIABLES = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_PATH', 'PYTHONPATH', 'VIRTUAL_ENV', 'CUDA_VISIBLE_DEVICES'];
/** Variables with this prefix are passed on as well, for trainer-specific settings. */
export const TRAINER_VARIABLE_PREFIX = 'TRAINER_';

export function trainerEnvironment(environment: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const passed: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined && (INHERITED_VARIABLES.includes(name) || name.startsWith(TRAINER_VARIABLE_PREFIX))) passed[name] = value;
  }
  return passed;
}

/**
 * Progress lines every 1 % of the run, between 10 and 1000 steps: frequent enough that the
 * worker's throttle (not the trainer) decides how often progress is recorded, and that an
 * orphaned trainer notices its worker is gone (its next write fails) within about a second.
 */
export const progressIntervalFor = (totalTimesteps: number): number => Math.min(1000, Math.max(10, Math.ceil(totalTimesteps / 100)));
