/**
 * One built-in training job from spec to policy artefact: validate, build the environment, train
 * with the job's algorithm, evaluate the deterministic policy. No files, no stdout: the trainer
 * process (and tests, in-process) decide where progress and the artefact go.
 */
import { resolveTrainingJob } from '../domain/training/catalog';
import type { TrainerJobSpec } from '../domain/training/trainer-protocol';
import { createTrainingEnvironment } from '../domain/training/training-environments';
import { ValidationError } from '../domain/shared/errors';
import { trainDqn } from './dqn-training';
import { evaluatePolicy } from './evaluation';
import { describeNetwork, loadPolicy, type PolicyArtifact } from './policy-artifact';
import { trainSac } from './sac-training';
import type { TrainingHooks } from './training-progress';

export type TrainingJobOutcome =
  | { status: 'completed'; timestep: number; artifact: PolicyArtifact; meanReturn: number | null }
  | { status: 'cancelled'; timestep: number };

export type TrainingJobHooks = Omit<TrainingHooks, 'progressIntervalTimesteps'>;

export const defaultProgressInterval = (totalTimesteps: number): number => Math.max(1, Math.floor(totalTimesteps / 100));

export async function runTrainingJob(spec: TrainerJobSpec, hooks: TrainingJobHooks): Promise<TrainingJobOutcome> {
  const job = resolveTrainingJob({
    algorithm: spec.algorithm,
    environment: spec.environment,
    total_timesteps: spec.total_timesteps,
    hyperparameters: spec.hyperparameters,
  });
  if (job.runner !== 'built_in') {
    throw new ValidationError(`${spec.environment} is trained by an external trainer, not the built-in one`);
  }
  const environment = createTrainingEnvironment(job.environment, spec.environment_options);
  const trainingHooks: TrainingHooks = {
    ...hooks,
    progressIntervalTimesteps: spec.progress_interval_timesteps ?? defaultProgressInterval(spec.total_timesteps),
  };

  let trained: { status: 'completed' | 'cancelled'; timestep: number; network: PolicyArtifact['network']; action: PolicyArtifact['action'] };
  if (job.algorithm === 'SAC' && environment.actionKind === 'continuous') {
    const result = await trainSac(environment, job.hyperparameters, job.totalTimesteps, spec.seed, trainingHooks);
    trained = {
      ...result,
      network: describeNetwork(result.agent.policy.network),
      action: { kind: 'continuous', size: environment.actionSize, head: 'tanh_gaussian' },
    };
  } else if (job.algorithm === 'DQN' && environment.actionKind === 'discrete') {
    const result = await trainDqn(environment, job.hyperparameters, job.totalTimesteps, spec.seed, trainingHooks);
    trained = {
      ...result,
      network: describeNetwork(result.agent.q),
      action: { kind: 'discrete', count: environment.actionCount, head: 'q_values' },
    };
  } else {
    throw new ValidationError(`${job.algorithm} cannot train ${environment.id} (${environment.actionKind} actions)`);
  }
  if (trained.status === 'cancelled') return { status: 'cancelled', timestep: trained.timestep };

  const artifact: PolicyArtifact = {
    format: 'lapxcel-policy',
    version: 1,
    algorithm: job.algorithm,
    environment: job.environment,
    observation_size: environment.observationSize,
    action: trained.action,
    network: trained.network,
    training: {
      job_id: spec.job_id,
      seed: spec.seed,
      total_timesteps: spec.total_timesteps,
      trained_timesteps: trained.timestep,
      hyperparameters: job.hyperparameters,
      environment_options: spec.environment_options,
      evaluation: null,
    },
  };
  if (spec.evaluation_episodes === 0) return { status: 'completed', timestep: trained.timestep, artifact, meanReturn: null };
  // Evaluate what was saved, through the same loader a consumer uses, not the live agent.
  const evaluation = evaluatePolicy(environment, loadPolicy(artifact), spec.evaluation_episodes, spec.seed);
  artifact.training.evaluation = { episodes: spec.evaluation_episodes, mean_return: evaluation.meanReturn };
  return { status: 'completed', timestep: trained.timestep, artifact, meanReturn: evaluation.meanReturn };
}
