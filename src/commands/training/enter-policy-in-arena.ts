import { submitAgentCode } from '../arena/submission-commands';
import { agentDecider, agentStreamId } from '../../domain/arena/agent';
import { ForbiddenError, InvalidStateError, NotFoundError, ValidationError } from '../../domain/shared/errors';
import { PONG_TRAINING_ENVIRONMENT_ID } from '../../domain/training/pong-training-env';
import type { ArtifactStore } from '../../infrastructure/artifacts/artifact-store';
import { policyAgentArchive } from '../../ml/policy-agent-archive';
import type { CommandContext } from '../command-context';
import { loadAggregate } from '../handle-command';
import { loadTrainingJob } from './training-job-commands';

/** The arena environment a pong policy plays: the training env is the arena's pong, as player 0. */
const ARENA_PONG_ENVIRONMENT_ID = 'pong';

/**
 * A completed DQN pong job's policy entered as a new submission of one of the caller's pong
 * agents: the agent files (policyAgentFiles) zipped and submitted through the arena's own
 * submission command, so it is validated, counted against the daily quota and built like an
 * upload.
 */
export async function enterPolicyInArena(
  ctx: CommandContext,
  deps: { artifacts: ArtifactStore; dailyQuota: number },
  input: { jobId: string; agentId: string; userId: string },
): ReturnType<typeof submitAgentCode> {
  const job = await loadTrainingJob(ctx, input.jobId);
  if (job.status === 'none') throw new NotFoundError('Training job not found');
  if (job.ownerId !== input.userId) throw new ForbiddenError('Not the owner of this training job');
  if (job.status !== 'completed' || job.artifactKey === null) {
    throw new InvalidStateError(`Training job is ${job.status}; only a completed job has a policy to enter`, { status: job.status });
  }
  if (job.environment !== PONG_TRAINING_ENVIRONMENT_ID || job.algorithm !== 'DQN') {
    throw new ValidationError(`Only pong policies trained with DQN can enter the arena; this job trained ${job.algorithm} on ${job.environment}`, {
      algorithm: job.algorithm,
      environment: job.environment,
    });
  }
  const { state: agent } = await loadAggregate(ctx.store, agentStreamId(input.agentId), agentDecider, ctx.states?.agents);
  if (agent.status !== 'active') throw new NotFoundError('Agent not found');
  if (agent.ownerId !== input.userId) throw new ForbiddenError('Not the owner of this agent');
  if (agent.environmentId !== ARENA_PONG_ENVIRONMENT_ID) {
    throw new ValidationError(`Agent ${agent.name} plays ${agent.environmentId}; a pong policy can only enter a pong agent`, {
      agentEnvironment: agent.environmentId,
    });
  }
  const artifact = await deps.artifacts.get(job.artifactKey);
  const archive = policyAgentArchive(artifact.toString('utf8'));
  return submitAgentCode(ctx, deps, { agentId: input.agentId, userId: input.userId, archive });
}
