import { agentDecider, agentStreamId, type Agent, type AgentEvent } from '../../domain/arena/agent';
import {
  agentNameClaimDecider,
  agentNameClaimStreamId,
  normaliseAgentName,
  type ClaimHolder,
} from '../../domain/arena/agent-name-claim';
import { environments, knownEnvironmentIds } from '../../domain/arena/environments/registry';
import { ForbiddenError, NotFoundError, ValidationError } from '../../domain/shared/errors';
import type { CommandContext } from '../command-context';
import { handleCommand, loadAggregate, type CommandOutcome } from '../handle-command';

export type AgentOutcome = CommandOutcome<Agent, AgentEvent>;

export async function loadAgent(ctx: Pick<CommandContext, 'store' | 'states'>, agentId: string): Promise<Agent> {
  return (await loadAggregate(ctx.store, agentStreamId(agentId), agentDecider, ctx.states?.agents)).state;
}

async function claimHolder(ctx: CommandContext, agentId: string | null): Promise<ClaimHolder> {
  if (agentId === null) return 'missing';
  const agent = await loadAgent(ctx, agentId);
  return agent.status === 'active' ? 'alive' : agent.status === 'deleted' ? 'deleted' : 'missing';
}

async function claimAgentName(ctx: CommandContext, ownerId: string, name: string, agentId: string): Promise<void> {
  const streamId = agentNameClaimStreamId(ownerId, name);
  const { state } = await loadAggregate(ctx.store, streamId, agentNameClaimDecider);
  const currentHolder = state.holderId === agentId ? 'alive' : await claimHolder(ctx, state.holderId);
  await handleCommand(
    ctx.store,
    streamId,
    agentNameClaimDecider,
    { type: 'ClaimAgentName', ownerId, name, agentId, now: ctx.now().toISOString(), currentHolder },
    { metadata: ctx.metadata },
  );
}

async function releaseAgentName(ctx: CommandContext, ownerId: string, name: string, agentId: string): Promise<void> {
  await handleCommand(
    ctx.store,
    agentNameClaimStreamId(ownerId, name),
    agentNameClaimDecider,
    { type: 'ReleaseAgentName', ownerId, name, agentId, now: ctx.now().toISOString() },
    { metadata: ctx.metadata },
  );
}

export function assertKnownEnvironment(environmentId: string, field = 'environment_id'): void {
  if (!environments.has(environmentId)) {
    throw new ValidationError(`unknown environment "${environmentId}"; known environments: ${knownEnvironmentIds().join(', ')}`, {
      fields: { [field]: `unknown environment; known: ${knownEnvironmentIds().join(', ')}` },
    });
  }
}

/** Claims the name (409 when the owner has an agent of that name), then records the agent. */
export async function createAgent(
  ctx: CommandContext,
  input: { ownerId: string; name: string; description: string | null; environmentId: string },
): Promise<AgentOutcome & { agentId: string }> {
  assertKnownEnvironment(input.environmentId);
  const agentId = ctx.newId();
  await claimAgentName(ctx, input.ownerId, input.name, agentId);
  try {
    const outcome = await handleCommand(
      ctx.store,
      agentStreamId(agentId),
      agentDecider,
      { type: 'CreateAgent', agentId, ...input, now: ctx.now().toISOString() },
      { metadata: ctx.metadata, source: ctx.states?.agents },
    );
    return { ...outcome, agentId };
  } catch (error) {
    await releaseAgentName(ctx, input.ownerId, input.name, agentId);
    throw error;
  }
}

/** A new name is claimed before the change and the old one released after, so a name is never shared. */
export async function updateAgent(
  ctx: CommandContext,
  input: { agentId: string; userId: string; name?: string; description?: string | null },
): Promise<AgentOutcome> {
  const agent = await loadAgent(ctx, input.agentId);
  if (agent.status !== 'active') throw new NotFoundError('Agent not found');
  if (agent.ownerId !== input.userId) throw new ForbiddenError('Not the owner of this agent');
  const renamed = input.name !== undefined && normaliseAgentName(input.name) !== normaliseAgentName(agent.name);
  if (renamed && input.name !== undefined) await claimAgentName(ctx, agent.ownerId, input.name, agent.agentId);
  const outcome = await handleCommand(
    ctx.store,
    agentStreamId(input.agentId),
    agentDecider,
    { type: 'UpdateAgent', ...input, now: ctx.now().toISOString() },
    { metadata: ctx.metadata, source: ctx.states?.agents },
  );
  if (renamed) await releaseAgentName(ctx, agent.ownerId, agent.name, agent.agentId);
  return outcome;
}

export async function deleteAgent(ctx: CommandContext, input: { agentId: string; userId: string }): Promise<AgentOutcome> {
  const outcome = await handleCommand(
    ctx.store,
    agentStreamId(input.agentId),
    agentDecider,
    { type: 'DeleteAgent', ...input, now: ctx.now().toISOString() },
    { metadata: ctx.metadata, source: ctx.states?.agents },
  );
  const deleted = outcome.events.find((event) => event.type === 'AgentDeleted');
  if (deleted?.type === 'AgentDeleted') await releaseAgentName(ctx, deleted.data.ownerId, deleted.data.name, input.agentId);
  return outcome;
}

/** Called by the build worker when a build succeeded (idempotent: the decider ignores repeats). */
export async function activateSubmission(ctx: CommandContext, agentId: string, submissionId: string): Promise<AgentOutcome> {
  return handleCommand(
    ctx.store,
    agentStreamId(agentId),
    agentDecider,
    { type: 'ActivateSubmission', agentId, submissionId, now: ctx.now().toISOString() },
    { metadata: ctx.metadata, source: ctx.states?.agents },
  );
}
