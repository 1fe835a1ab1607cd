import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError } from '../shared/errors';

/**
 * Agent names are unique per owner, enforced like usernames (src/domain/identity/unique-claim.ts):
 * one stream per (owner, name), appended with optimistic concurrency, so two concurrent creations
 * of the same name cannot both win. Names compare case-insensitively.
 */
export const normaliseAgentName = (name: string): string => name.trim().toLowerCase();

export const agentNameClaimStreamId = (ownerId: string, name: string): string =>
  `agentname-${ownerId}-${encodeURIComponent(normaliseAgentName(name))}`;

const AgentNameData = z.object({ ownerId: z.string(), name: z.string(), agentId: z.string(), at: z.string() });
export const AgentNameClaimed = defineEvent('AgentNameClaimed', { data: AgentNameData });
export type AgentNameClaimed = EventOf<typeof AgentNameClaimed>;
export const AgentNameReleased = defineEvent('AgentNameReleased', { data: AgentNameData });
export type AgentNameReleased = EventOf<typeof AgentNameReleased>;
export type AgentNameClaimEvent = AgentNameClaimed | AgentNameReleased;

export type AgentNameClaim = { agentId: string | null; claimedAt: string | null };

/** A creation claims the name before it records the agent; a claim whose agent never appeared is free after this. */
export const ABANDONED_AGENT_NAME_AFTER_MS = 60_000;

/** What the handler found about the agent holding the claim now. */
export type ClaimHolder = 'alive' | 'deleted' | 'missing';

export type AgentNameClaimCommand =
  | { type: 'ClaimAgentName'; ownerId: string; name: string; agentId: string; now: string; currentHolder: ClaimHolder }
  | { type: 'ReleaseAgentName'; ownerId: string; name: string; agentId: string; now: string };

function isFree(state: AgentNameClaim, holder: ClaimHolder, now: string): boolean {
  if (state.agentId === null || holder === 'deleted') return true;
  if (holder === 'alive' || state.claimedAt === null) return false;
  return Date.parse(now) - Date.parse(state.claimedAt) > ABANDONED_AGENT_NAME_AFTER_MS;
}

export function decideAgentNameClaim(command: AgentNameClaimCommand, state: AgentNameClaim): AgentNameClaimEvent[] {
  const { ownerId, name, agentId, now } = command;
  switch (command.type) {
    case 'ClaimAgentName':
      if (state.agentId === agentId) return [];
      if (!isFree(state, command.currentHolder, now)) {
        throw new ConflictError('Agent name already exists for this user', { field: 'name' });
      }
      return [{ type: 'AgentNameClaimed', data: { ownerId, name, agentId, at: now } }];
    case 'ReleaseAgentName':
      if (state.agentId !== agentId) return [];
      return [{ type: 'AgentNameReleased', data: { ownerId, name, agentId, at: now } }];
  }
}

export const agentNameClaimDecider: Decider<AgentNameClaimCommand, AgentNameClaim, AgentNameClaimEvent> = {
  initialState: () => ({ agentId: null, claimedAt: null }),
  evolve: (state, event) => {
    if (event.type === 'AgentNameClaimed') return { agentId: event.data.agentId, claimedAt: event.data.at };
    return state.agentId === event.data.agentId ? { agentId: null, claimedAt: null } : state;
  },
  decide: decideAgentNameClaim,
};
