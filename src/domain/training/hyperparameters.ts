/**
 * Hyperparameters of the built-in algorithms, named as in Stable-Baselines3 so a job written for
 * a Python trainer reads the same here. Every value is range-checked and unknown names are
 * rejected; what a request leaves out is filled from the defaults below.
 */
import { z } from 'zod';
import { ValidationError } from '../shared/errors';

/** Hidden layer widths. Defaults are smaller than SB3's 256x256 because these MLPs run in JavaScript. */
const netArch = z.array(z.number().int().min(1).max(1024)).min(1).max(4);

const offPolicyFields = {
  learning_rate: z.number().gt(0).lte(1),
  buffer_size: z.number().int().min(1).max(10_000_000),
  batch_size: z.number().int().min(1).max(4096),
  gamma: z.number().min(0).max(1),
  tau: z.number().gt(0).lte(1),
  /** Environment steps of uniformly random actions before the first gradient step. */
  learning_starts: z.number().int().min(0),
  /** Gradient steps happen every train_freq environment steps, gradient_steps at a time. */
  train_freq: z.number().int().min(1),
  gradient_steps: z.number().int().min(1).max(1000),
  net_arch: netArch,
};

export const sacHyperparametersSchema = z
  .strictObject({ ...offPolicyFields })
  .refine((value) => value.batch_size <= value.buffer_size, { message: 'batch_size must not exceed buffer_size', path: ['batch_size'] });

export const dqnHyperparametersSchema = z
  .strictObject({
    ...offPolicyFields,
    /** Environment steps between target network updates (each blends in tau of the online net). */
    target_update_interval: z.number().int().min(1),
    /** Fraction of total_timesteps over which ε falls from the initial to the final value. */
    exploration_fraction: z.number().gt(0).lte(1),
    exploration_initial_eps: z.number().min(0).max(1),
    exploration_final_eps: z.number().min(0).max(1),
    max_grad_norm: z.number().gt(0),
  })
  .refine((value) => value.batch_size <= value.buffer_size, { message: 'batch_size must not exceed buffer_size', path: ['batch_size'] });

export type SacHyperparameters = z.infer<typeof sacHyperparametersSchema>;
export type DqnHyperparameters = z.infer<typeof dqnHyperparametersSchema>;

/** SB3's defaults except net_arch (see above). */
export const SAC_DEFAULTS: SacHyperparameters = {
  learning_rate: 3e-4,
  buffer_size: 1_000_000,
  batch_size: 256,
  gamma: 0.99,
  tau: 0.005,
  learning_starts: 100,
  train_freq: 1,
  gradient_steps: 1,
  net_arch: [64, 64],
};

/** SB3's defaults except net_arch and the target update interval, which suit shorter runs. */
export const DQN_DEFAULTS: DqnHyperparameters = {
  learning_rate: 1e-4,
  buffer_size: 1_000_000,
  batch_size: 32,
  gamma: 0.99,
  tau: 1,
  learning_starts: 100,
  train_freq: 4,
  gradient_steps: 1,
  net_arch: [64, 64],
  target_update_interval: 1000,
  exploration_fraction: 0.1,
  exploration_initial_eps: 1,
  exploration_final_eps: 0.05,
  max_grad_norm: 10,
};

export const ALGORITHM_IDS = ['SAC', 'DQN'] as const;
export type AlgorithmId = (typeof ALGORITHM_IDS)[number];

export type AlgorithmHyperparameters =
  | { algorithm: 'SAC'; hyperparameters: SacHyperparameters }
  | { algorithm: 'DQN'; hyperparameters: DqnHyperparameters };

/** Fills defaults and validates; a ValidationError names each offending field and the known ones. */
export function validateHyperparameters(algorithm: AlgorithmId, given: Record<string, unknown> = {}): AlgorithmHyperparameters {
  switch (algorithm) {
    case 'SAC':
      return { algorithm, hyperparameters: parseOrThrow(algorithm, sacHyperparametersSchema, { ...SAC_DEFAULTS, ...given }) };
    case 'DQN':
      return { algorithm, hyperparameters: parseOrThrow(algorithm, dqnHyperparametersSchema, { ...DQN_DEFAULTS, ...given }) };
  }
}

function parseOrThrow<Output>(algorithm: AlgorithmId, schema: z.ZodType<Output>, input: Record<string, unknown>): Output {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const known = Object.keys(algorithm === 'SAC' ? SAC_DEFAULTS : DQN_DEFAULTS);
  const problems = parsed.error.issues.map((issue) =>
    issue.code === 'unrecognized_keys'
      ? `unknown hyperparameter(s) ${issue.keys.join(', ')}`
      : `${issue.path.join('.') || 'hyperparameters'}: ${issue.message}`,
  );
  throw new ValidationError(`invalid ${algorithm} hyperparameters: ${problems.join('; ')} (known: ${known.join(', ')})`, {
    algorithm,
    problems,
    knownHyperparameters: known,
  });
}

/** Linear ε decay used by DQN: from initial to final over exploration_fraction of the run, then flat. */
export function explorationRate(hyperparameters: DqnHyperparameters, timestep: number, totalTimesteps: number): number {
  const progress = timestep / Math.max(1, hyperparameters.exploration_fraction * totalTimesteps);
  const { exploration_initial_eps: initial, exploration_final_eps: final } = hyperparameters;
  return progress >= 1 ? final : initial + (final - initial) * progress;
}
