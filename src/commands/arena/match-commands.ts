import { randomInt } from 'node:crypto';
import { agentDecider, agentStreamId, type Agent } from '../../domain/arena/agent';
import { ladderDecider, ladderStreamId, type Ladder, type LadderEvent } from '../../domain/arena/ladder';
import { assertChallengerOwned, matchDecider, matchStreamId, type Match, type MatchCommand, type MatchEvent, type MatchParticipant } from '../../domain/arena/match';
import type { MatchQuotaPolicy } from '../../domain/arena/match-quota';
import { matchSlotsDecider, matchSlotsStreamId } from '../../domain/arena/match-slots';
import type { MatchWinner } from '../../domain/arena/replay';
import { InvalidStateError, ValidationError } from '../../domain/shared/errors';
import type { CommandContext } from '../command-context';
import { handleCommand, loadAggregate, type CommandOutcome } from '../handle-command';
import { assertKnownEnvironment } from './agent-commands';

export type MatchOutcome = CommandOutcome<Match, MatchEvent>;

export async function loadMatch(ctx: Pick<CommandContext, 'store'>, matchId: string): Promise<Match> {
  return (await loadAggregate(ctx.store, matchStreamId(matchId), matchDecider)).state;
}

export interface RequestMatchDeps {
  /** Matches per day and cooldown of every agent, enforced on the agents' match-slot streams. */
  quotaPolicy: MatchQuotaPolicy;
  /** Environment options every match of the environment is played with (e.g. pong's target score). */
  environmentOptionsFor(environmentId: string): Record<string, number>;
}

function participant(agent: Agent, agentId: string, field: string, environmentId: string): MatchParticipant {
  if (agent.status !== 'active') throw new ValidationError(`Invalid agent id: agent ${agentId} not found`, { fields: { [field]: 'agent not found' } });
  if (agent.environmentId !== environmentId) {
    throw new ValidationError(`Agent ${agentId} plays ${agent.environmentId}, not ${environmentId}`, { fields: { [field]: `agent plays ${agent.environmentId}` } });
  }
  if (agent.activeSubmissionId === null) {
    throw new InvalidStateError(`Agent ${agentId} has no successfully built submission yet`, { fields: { [field]: 'no active submission' } });
  }
  return { agentId, submissionId: agent.activeSubmissionId, ownerId: agent.ownerId };
}

/**
 * A match between two agents' active submissions, manual or from the matchmaker. Both agents must
 * exist, play the environment, have a built submission, and be within their match quota and
 * cooldown (429 otherwise). The seed is drawn here, so the match replays from its event.
 */
export async function requestMatch(
  ctx: CommandContext,
  deps: RequestMatchDeps,
  input: { agent1Id: string; agent2Id: string; environmentId: string; source: 'manual' | 'matchmaker'; requestedBy: string | null },
): Promise<MatchOutcome & { matchId: string }> {
  assertKnownEnvironment(input.environmentId);
  if (input.agent1Id === input.agent2Id) {
    throw new ValidationError('An agent cannot play against itself', { fields: { agent_2_id: 'must differ from agent_1_id' } });
  }
  const [agent1, agent2] = await Promise.all(
    [input.agent1Id, input.agent2Id].map(async (id) => (await loadAggregate(ctx.store, agentStreamId(id), agentDecider, ctx.states?.agents)).state),
  );
  const first = participant(agent1!, input.agent1Id, 'agent_1_id', input.environmentId);
  // Before any slot is reserved: a refused challenge must not touch anyone's quota.
  assertChallengerOwned({ source: input.source, requestedBy: input.requestedBy, agent1: first });
  const second = participant(agent2!, input.agent2Id, 'agent_2_id', input.environmentId);
  const now = ctx.now().toISOString();
  const matchId = ctx.newId();
  // Quota and cooldown: a slot on each agent's own stream (429 when one has none left). A later
  // step that fails gives the slots back, so a refused request costs nothing.
  const reserved: string[] = [];
  try {
    // A manual match is agent_1's challenge: agent_2's slot is a received challenge (match-slots.ts).
    const slots = [
      { agentId: input.agent1Id, kind: 'own' as const },
      { agentId: input.agent2Id, kind: input.source === 'manual' ? ('challenge_received' as const) : ('own' as const) },
    ];
    for (const { agentId, kind } of slots) {
      await handleCommand(
        ctx.store,
        matchSlotsStreamId(agentId),
        matchSlotsDecider,
        { type: 'ReserveMatchSlot', agentId, matchId, kind, policy: deps.quotaPolicy, now },
        { metadata: ctx.metadata, source: ctx.states?.matchSlots },
      );
      reserved.push(agentId);
    }
    const outcome = await handleCommand(
      ctx.store,
      matchStreamId(matchId),
      matchDecider,
      {
        type: 'RequestMatch',
        matchId,
        environmentId: input.environmentId,
        environmentOptions: deps.environmentOptionsFor(input.environmentId),
        seed: randomInt(0, 2 ** 31 - 1),
        agent1: first,
        agent2: second,
        source: input.source,
        requestedBy: input.requestedBy,
        now,
      },
      { metadata: ctx.metadata },
    );
    return { ...outcome, matchId };
  } catch (error) {
    for (const agentId of reserved) await releaseMatchSlot(ctx, agentId, matchId);
    throw error;
  }
}

/** Gives an agent's slot for a match back (a match that could not be played does not count). Idempotent. */
export async function releaseMatchSlot(ctx: CommandContext, agentId: string, matchId: string): Promise<void> {
  await handleCommand(
    ctx.store,
    matchSlotsStreamId(agentId),
    matchSlotsDecider,
    { type: 'ReleaseMatchSlot', agentId, matchId, now: ctx.now().toISOString() },
    { metadata: ctx.metadata, source: ctx.states?.matchSlots },
  );
}

export async function handleMatchCommand(
  ctx: CommandContext,
  matchId: string,
  command: Exclude<MatchCommand, { type: 'RequestMatch' }>,
): Promise<MatchOutcome> {
  return handleCommand(ctx.store, matchStreamId(matchId), matchDecider, command, { metadata: ctx.metadata });
}

/** Appends MatchRated to the environment's ladder; a match already rated is not rated again. */
export async function rateCompletedMatch(
  ctx: CommandContext,
  input: { matchId: string; environmentId: string; agent1Id: string; agent2Id: string; winner: MatchWinner; kFactor: number; completedAt: string },
): Promise<CommandOutcome<Ladder, LadderEvent>> {
  return handleCommand(ctx.store, ladderStreamId(input.environmentId), ladderDecider, { type: 'RateMatch', ...input }, { metadata: ctx.metadata, maxAttempts: 20, source: ctx.states?.ladders });
}
