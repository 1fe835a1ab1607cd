import { randomInt } from 'node:crypto';
import { resolveTrainingJob, type ExternalTrainers, type RunnerEnvironments } from '../../domain/training/catalog';
import {
  trainingJobDecider,
  trainingJobStreamId,
  type TrainingJob,
  type TrainingJobCommand,
  type TrainingJobEvent,
} from '../../domain/training/training-job';
import { createTrainingEnvironment } from '../../domain/training/training-environments';
import type { CommandContext } from '../command-context';
import { handleCommand, loadAggregate, type CommandOutcome } from '../handle-command';

export type TrainingJobOutcome = CommandOutcome<TrainingJob, TrainingJobEvent>;

export interface CreateTrainingJobInput {
  ownerId: string;
  algorithm: string;
  environment: string;
  totalTimesteps: number;
  hyperparameters?: Record<string, unknown>;
  environmentOptions?: Record<string, number>;
  description?: string | null;
  /** Makes the run reproducible; a random one when omitted. */
  seed?: number;
}

/**
 * Validates the request against the catalog (400 naming the known environments / algorithms /
 * hyperparameters) and records the job; TrainingJobCreated queues it for a training worker, or,
 * for a runner environment, for a trainer runner.
 */
export async function createTrainingJob(
  ctx: CommandContext,
  trainers: { external: ExternalTrainers; runnerEnvironments: RunnerEnvironments },
  input: CreateTrainingJobInput,
): Promise<TrainingJobOutcome & { jobId: string }> {
  const resolved = resolveTrainingJob(
    { algorithm: input.algorithm, environment: input.environment, total_timesteps: input.totalTimesteps, hyperparameters: input.hyperparameters },
    trainers.external,
    trainers.runnerEnvironments,
  );
  const environmentOptions = input.environmentOptions ?? {};
  // Built-in environments check their options now rather than failing in the worker later.
  if (resolved.runner === 'built_in') createTrainingEnvironment(resolved.environment, environmentOptions);
  const jobId = ctx.newId();
  const outcome = await handleCommand(
    ctx.store,
    trainingJobStreamId(jobId),
    trainingJobDecider,
    {
      type: 'CreateTrainingJob',
      jobId,
      ownerId: input.ownerId,
      algorithm: resolved.algorithm,
      environment: resolved.environment,
      totalTimesteps: resolved.totalTimesteps,
      hyperparameters: { ...resolved.hyperparameters },
      environmentOptions,
      description: input.description ?? null,
      runner: resolved.runner,
      seed: input.seed ?? randomInt(0, 0x1_0000_0000),
      now: ctx.now().toISOString(),
    },
    { metadata: ctx.metadata, source: ctx.states?.trainingJobs },
  );
  return { ...outcome, jobId };
}

/** 404 for an unknown job, 403 for someone else's, 400 for a finished one (the decider's rules). */
export async function requestTrainingCancel(ctx: CommandContext, jobId: string, userId: string): Promise<TrainingJobOutcome> {
  return handleTrainingJobCommand(ctx, jobId, { type: 'RequestTrainingCancel', userId, now: ctx.now().toISOString() });
}

export async function loadTrainingJob(ctx: Pick<CommandContext, 'store' | 'states'>, jobId: string): Promise<TrainingJob> {
  return (await loadAggregate(ctx.store, trainingJobStreamId(jobId), trainingJobDecider, ctx.states?.trainingJobs)).state;
}

/** Any other command, loaded fresh from the stream (the supervisor's requeue, a claim). */
export async function handleTrainingJobCommand(
  ctx: Pick<CommandContext, 'store' | 'metadata' | 'states'>,
  jobId: string,
  command: TrainingJobCommand,
): Promise<TrainingJobOutcome> {
  return handleCommand(ctx.store, trainingJobStreamId(jobId), trainingJobDecider, command, { metadata: ctx.metadata, source: ctx.states?.trainingJobs });
}
