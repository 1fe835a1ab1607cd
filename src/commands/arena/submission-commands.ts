import { agentDecider, agentStreamId } from '../../domain/arena/agent';
import { submissionDecider, submissionStreamId, type Submission, type SubmissionCommand, type SubmissionEvent } from '../../domain/arena/submission';
import { ForbiddenError, NotFoundError } from '../../domain/shared/errors';
import type { ArtifactStore } from '../../infrastructure/artifacts/artifact-store';
import { validateZip } from '../../infrastructure/submissions/zip-validator';
import type { CommandContext } from '../command-context';
import { handleCommand, loadAggregate, type CommandOutcome } from '../handle-command';

export type SubmissionOutcome = CommandOutcome<Submission, SubmissionEvent>;

export async function loadSubmission(ctx: Pick<CommandContext, 'store'>, submissionId: string): Promise<Submission> {
  return (await loadAggregate(ctx.store, submissionStreamId(submissionId), submissionDecider)).state;
}

/**
 * An upload: owner check, the archive validated in memory (400 naming the problem), stored by
 * content, a version (and a unit of the daily quota) taken on the agent's stream, then the
 * submission recorded, which queues its build. A process dying between the last two steps leaves
 * a skipped version number, never two submissions with one number.
 */
export async function submitAgentCode(
  ctx: CommandContext,
  deps: { artifacts: ArtifactStore; dailyQuota: number },
  input: { agentId: string; userId: string; archive: Buffer },
): Promise<SubmissionOutcome & { submissionId: string }> {
  const { state: agent } = await loadAggregate(ctx.store, agentStreamId(input.agentId), agentDecider, ctx.states?.agents);
  if (agent.status !== 'active') throw new NotFoundError('Agent not found');
  if (agent.ownerId !== input.userId) throw new ForbiddenError('Not the owner of this agent');
  validateZip(input.archive);

  const submissionId = ctx.newId();
  const accept = { type: 'AcceptSubmission', agentId: input.agentId, submissionId, userId: input.userId, dailyQuota: deps.dailyQuota, now: ctx.now().toISOString() } as const;
  agentDecider.decide(accept, agent); // a dry run: over the quota, nothing is stored
  const stored = await deps.artifacts.put(input.archive);
  const accepted = await handleCommand(ctx.store, agentStreamId(input.agentId), agentDecider, accept, { metadata: ctx.metadata, source: ctx.states?.agents });
  const acceptance = accepted.events.find((event) => event.type === 'SubmissionAccepted');
  if (acceptance?.type !== 'SubmissionAccepted') throw new Error('submission was not accepted');
  const outcome = await handleCommand(
    ctx.store,
    submissionStreamId(submissionId),
    submissionDecider,
    {
      type: 'ReceiveSubmission',
      submissionId,
      agentId: input.agentId,
      ownerId: input.userId,
      environmentId: agent.environmentId,
      sequence: acceptance.data.sequence,
      version: acceptance.data.version,
      contentHash: stored.sha256,
      artifactKey: stored.key,
      sizeBytes: stored.sizeBytes,
      now: ctx.now().toISOString(),
    },
    { metadata: ctx.metadata },
  );
  return { ...outcome, submissionId };
}

type BuildCommand = Exclude<SubmissionCommand, { type: 'ReceiveSubmission' }>;

/** Start, succeed, fail or rebuild: the decider turns repeats into no-ops (see the Submission aggregate). */
export async function handleSubmissionCommand(
  ctx: CommandContext,
  submissionId: string,
  command: BuildCommand,
): Promise<SubmissionOutcome> {
  return handleCommand(ctx.store, submissionStreamId(submissionId), submissionDecider, command, { metadata: ctx.metadata });
}
