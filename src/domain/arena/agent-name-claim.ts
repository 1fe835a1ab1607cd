import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError } from '../shared/errors';
import { ABANDONED_CLAIM_AFTER_MS, uniqueClaimDeciderOf, type ClaimHolder, type UniqueClaim } from '../shared/unique-claim';

/**
 * Agent names are unique per owner through the event store: one stream per (owner, name), decided
 * by the shared claim rule (src/domain/shared/unique-claim.ts). Names compare case-insensitively.
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

export type AgentNameClaim = UniqueClaim;

/** A creation claims the name before it records the agent; a claim whose agent never appeared is free after this. */
export const ABANDONED_AGENT_NAME_AFTER_MS = ABANDONED_CLAIM_AFTER_MS;

export type { ClaimHolder };

export type AgentNameClaimCommand =
  | { type: 'ClaimAgentName'; ownerId: string; name: string; agentId: string; now: string; currentHolder: ClaimHolder }
  | { type: 'ReleaseAgentName'; ownerId: string; name: string; agentId: string; now: string };

export const agentNameClaimDecider = uniqueClaimDeciderOf<AgentNameClaimCommand, AgentNameClaimEvent>({
  request: (command) =>
    command.type === 'ClaimAgentName'
      ? { kind: 'claim', holderId: command.agentId, now: command.now, currentHolder: command.currentHolder }
      : { kind: 'release', holderId: command.agentId, now: command.now },
  claimed: ({ ownerId, name, agentId, now }) => ({ type: 'AgentNameClaimed', data: { ownerId, name, agentId, at: now } }),
  released: ({ ownerId, name, agentId, now }) => ({ type: 'AgentNameReleased', data: { ownerId, name, agentId, at: now } }),
  change: (event) => ({ kind: event.type === 'AgentNameClaimed' ? 'claimed' : 'released', holderId: event.data.agentId, at: event.data.at }),
  conflict: () => new ConflictError('Agent name already exists for this user', { field: 'name' }),
});
