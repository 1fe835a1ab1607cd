/**
 * Which environments can be trained with which algorithms, and by whom: built-in environments
 * run in the server's own trainer process; any other environment (e.g. AssettoCorsaEnv-v1) is
 * served by an external trainer command configured per environment on the server, speaking the
 * same protocol, or else by trainer runners (`arena runner`) that claim its jobs over the HTTP
 * API (docs/training.md). resolveTrainingJob is the one check a job request passes before it runs.
 */
import { z } from 'zod';
import { ValidationError } from '../shared/errors';
import {
  ALGORITHM_IDS,
  type AlgorithmHyperparameters,
  type AlgorithmId,
  validateHyperparameters,
} from './hyperparameters';
import { LAPSIM_ENVIRONMENT_ID } from './lapsim-env';
import { PONG_TRAINING_ENVIRONMENT_ID } from './pong-training-env';

export interface BuiltInEnvironment {
  id: string;
  actionKind: 'continuous' | 'discrete';
  algorithms: readonly AlgorithmId[];
  description: string;
}

export const BUILT_IN_TRAINING_ENVIRONMENTS: readonly BuiltInEnvironment[] = [
  {
    id: LAPSIM_ENVIRONMENT_ID,
    actionKind: 'continuous',
    algorithms: ['SAC'],
    description: 'Kinematic car on a closed 570 m track; reward is centreline progress',
  },
  {
    id: PONG_TRAINING_ENVIRONMENT_ID,
    actionKind: 'discrete',
    algorithms: ['DQN'],
    description: 'Arena pong as the left player against a scripted, speed-limited ball tracker',
  },
];

/** How one externally trained environment is run: argv of the trainer and the algorithms it offers. */
export const externalTrainerSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1),
  algorithms: z.array(z.string().min(1)).min(1),
});
/** Environment id -> external trainer; the shape of the server's external trainer configuration. */
export const externalTrainersSchema = z.record(z.string().min(1), externalTrainerSchema);
export type ExternalTrainers = z.infer<typeof externalTrainersSchema>;

/** Environment id -> algorithms that trainer runners may serve (jobs wait, `pending`, for a runner). */
export const runnerEnvironmentsSchema = z.record(z.string().min(1), z.array(z.string().min(1)).min(1));
export type RunnerEnvironments = z.infer<typeof runnerEnvironmentsSchema>;

/** Stable-Baselines3's algorithms, offered for runner environments unless configured otherwise. */
export const DEFAULT_RUNNER_ENVIRONMENTS: RunnerEnvironments = { 'AssettoCorsaEnv-v1': ['SAC', 'TD3', 'DDPG', 'PPO', 'A2C', 'DQN'] };

export const MAX_TOTAL_TIMESTEPS = 100_000_000;

export const trainingJobRequestSchema = z.object({
  algorithm: z.string().min(1),
  environment: z.string().min(1),
  total_timesteps: z.number().int().min(1).max(MAX_TOTAL_TIMESTEPS),
  hyperparameters: z.record(z.string(), z.unknown()).optional(),
});
export type TrainingJobRequest = z.infer<typeof trainingJobRequestSchema>;

export type ResolvedTrainingJob =
  | ({ runner: 'built_in'; environment: string; totalTimesteps: number } & AlgorithmHyperparameters)
  | {
      runner: 'external';
      environment: string;
      algorithm: string;
      totalTimesteps: number;
      hyperparameters: Record<string, unknown>;
      command: readonly string[];
    }
  | { runner: 'remote'; environment: string; algorithm: string; totalTimesteps: number; hyperparameters: Record<string, unknown> };

/** Range checks for the common names when an external trainer runs an algorithm we do not know. */
const externalHyperparametersSchema = z.looseObject({
  learning_rate: z.number().gt(0).lte(1).optional(),
  buffer_size: z.number().int().min(1).optional(),
  batch_size: z.number().int().min(1).optional(),
  gamma: z.number().min(0).max(1).optional(),
  tau: z.number().gt(0).lte(1).optional(),
});

export function knownTrainingEnvironments(externalTrainers: ExternalTrainers = {}, runnerEnvironments: RunnerEnvironments = {}): string[] {
  const ids = BUILT_IN_TRAINING_ENVIRONMENTS.map((environment) => environment.id);
  for (const id of [...Object.keys(externalTrainers), ...Object.keys(runnerEnvironments)]) if (!ids.includes(id)) ids.push(id);
  return ids;
}

/**
 * Algorithms offered for an environment, built-in first; matching is case-insensitive. A server
 * trainer configured for an environment takes it over from runners entirely.
 */
export function algorithmsFor(environment: string, externalTrainers: ExternalTrainers = {}, runnerEnvironments: RunnerEnvironments = {}): string[] {
  const builtIn = BUILT_IN_TRAINING_ENVIRONMENTS.find((entry) => entry.id === environment)?.algorithms ?? [];
  const external = externalTrainers[environment]?.algorithms ?? (builtIn.length === 0 ? (runnerEnvironments[environment] ?? []) : []);
  return [...new Set([...builtIn, ...external])];
}

/**
 * Validates a job request and decides who runs it. A built-in environment with a built-in
 * algorithm runs in-house; otherwise an external trainer configured for the environment that
 * lists the algorithm runs it; otherwise a runner environment offering the algorithm makes it a
 * `remote` job for trainer runners. Anything else is a ValidationError naming what is known.
 */
export function resolveTrainingJob(input: unknown, externalTrainers: ExternalTrainers = {}, runnerEnvironments: RunnerEnvironments = {}): ResolvedTrainingJob {
  const parsed = trainingJobRequestSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(`invalid training job: ${z.prettifyError(parsed.error)}`, {
      issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  const request = parsed.data;
  const environments = knownTrainingEnvironments(externalTrainers, runnerEnvironments);
  if (!environments.includes(request.environment)) {
    throw new ValidationError(`unknown environment "${request.environment}"; known environments: ${environments.join(', ')}`, {
      environment: request.environment,
      knownEnvironments: environments,
    });
  }
  const offered = algorithmsFor(request.environment, externalTrainers, runnerEnvironments);
  const algorithm = offered.find((name) => name.toLowerCase() === request.algorithm.toLowerCase());
  if (!algorithm) {
    throw new ValidationError(
      `unknown algorithm "${request.algorithm}" for ${request.environment}; known algorithms: ${offered.join(', ')}`,
      { algorithm: request.algorithm, environment: request.environment, knownAlgorithms: offered },
    );
  }
  const builtIn = BUILT_IN_TRAINING_ENVIRONMENTS.find((entry) => entry.id === request.environment);
  const builtInAlgorithm = builtIn?.algorithms.find((name) => name === algorithm);
  if (builtInAlgorithm) {
    return {
      runner: 'built_in',
      environment: request.environment,
      totalTimesteps: request.total_timesteps,
      ...validateHyperparameters(builtInAlgorithm, request.hyperparameters),
    };
  }
  const hyperparameters = externalHyperparameters(algorithm, request.hyperparameters ?? {});
  const trainer = externalTrainers[request.environment];
  if (!trainer) return { runner: 'remote', environment: request.environment, algorithm, totalTimesteps: request.total_timesteps, hyperparameters };
  return {
    runner: 'external',
    environment: request.environment,
    algorithm,
    totalTimesteps: request.total_timesteps,
    hyperparameters,
    command: trainer.command,
  };
}

/** SAC and DQN are checked as strictly as built-in runs; other algorithms only on the common names. */
function externalHyperparameters(algorithm: string, given: Record<string, unknown>): Record<string, unknown> {
  const known = ALGORITHM_IDS.find((id) => id === algorithm);
  if (known) return validateHyperparameters(known, given).hyperparameters;
  const parsed = externalHyperparametersSchema.safeParse(given);
  if (!parsed.success) {
    throw new ValidationError(`invalid ${algorithm} hyperparameters: ${z.prettifyError(parsed.error)}`, {
      algorithm,
      issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  return parsed.data;
}
