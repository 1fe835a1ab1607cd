/**
 * What a trainer runner does to its owner's jobs through the HTTP API: claim one on a lease,
 * report on the run it holds (renewing the lease), end it. Every rule is the TrainingJob
 * decider's; this layer only checks that the job is the runner token owner's and names the run
 * by the token and the runner's own name.
 */
import { ForbiddenError, InvalidStateError, NotFoundError } from '../../domain/shared/errors';
import type { TrainingJob, TrainingJobCommand } from '../../domain/training/training-job';
import type { CommandContext } from '../command-context';
import { handleTrainingJobCommand, loadTrainingJob, type TrainingJobOutcome } from './training-job-commands';
import type { RunnerPrincipal } from './runner-token-commands';

/** The `workerId` a runner's runs carry: a runner can only ever report as a runner of its own token. */
export const runnerWorkerId = (principal: RunnerPrincipal, runnerName: string): string => `runner:${principal.tokenId}:${runnerName}`;

/**
 * Claims the first of `candidateIds` (oldest first, from the read model) that the job's stream
 * still lets this runner claim; another runner that won a race just moves the claim to the next.
 */
export async function claimRemoteTrainingJob(
  ctx: CommandContext,
  principal: RunnerPrincipal,
  claim: { runnerName: string; environments: readonly string[]; algorithms?: readonly string[]; leaseDurationMs: number },
  candidateIds: readonly string[],
): Promise<(TrainingJobOutcome & { jobId: string }) | undefined> {
  for (const jobId of candidateIds) {
    try {
      const outcome = await handleTrainingJobCommand(ctx, jobId, {
        type: 'ClaimTrainingLease',
        workerId: runnerWorkerId(principal, claim.runnerName),
        runnerOwnerId: principal.ownerId,
        environments: claim.environments,
        ...(claim.algorithms !== undefined ? { algorithms: claim.algorithms } : {}),
        leaseDurationMs: claim.leaseDurationMs,
        now: ctx.now().toISOString(),
      });
      return { ...outcome, jobId };
    } catch (error) {
      if (error instanceof InvalidStateError || error instanceof ForbiddenError) continue; // claimed meanwhile, or not a fit
      throw error;
    }
  }
  return undefined;
}

/** Reports a runner can make about the run it holds. */
export type RunnerReport =
  | { type: 'RecordTrainingProgress'; timestep: number; episodeReward: number | null; episodeLength: number | null; fps: number; loss: number | null; estimatedTimeRemainingSec: number | null }
  | { type: 'RecordTrainingHeartbeat' }
  | { type: 'ConfirmTrainingCancelled'; timestep: number }
  | { type: 'FailTraining'; reason: string }
  | { type: 'ReleaseTraining'; reason: string }
  | { type: 'CompleteTraining'; timestep: number; artifactKey: string; artifactSizeBytes: number; meanReturn: number | null };

/** 404 when there is no such job, 403 when it is not the token owner's: before anything else. */
export async function requireRunnersJob(ctx: Pick<CommandContext, 'store'>, principal: RunnerPrincipal, jobId: string): Promise<Exclude<TrainingJob, { status: 'none' }>> {
  const job = await loadTrainingJob(ctx, jobId);
  if (job.status === 'none') throw new NotFoundError('Training job not found');
  if (job.ownerId !== principal.ownerId) throw new ForbiddenError("A runner token serves only its owner's training jobs");
  return job;
}

/** Records a report on the run `attempt` of `runnerName`; a run that is no longer current (lease lost) is a ConflictError (409). */
export async function recordRunnerReport(
  ctx: CommandContext,
  principal: RunnerPrincipal,
  jobId: string,
  run: { runnerName: string; attempt: number },
  report: RunnerReport,
): Promise<TrainingJobOutcome> {
  await requireRunnersJob(ctx, principal, jobId);
  const command: TrainingJobCommand = { ...report, workerId: runnerWorkerId(principal, run.runnerName), attempt: run.attempt, now: ctx.now().toISOString() };
  return handleTrainingJobCommand(ctx, jobId, command);
}
