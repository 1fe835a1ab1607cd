import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from '../shared/errors';
import { startOfNextUtcDay, utcDay } from './utc-day';

export const agentStreamId = (agentId: string): string => `agent-${agentId}`;

const AGENT_NAME_CHARACTERS = /^[\p{L}\p{N}_. -]+$/u;

/**
 * Letters, digits, space, `_ . -`; what a leaderboard can show without escaping surprises. A
 * refinement, not `.regex`: a Unicode property pattern in the OpenAPI document is unreadable to
 * clients whose regex engines lack `\p{…}` (Python's `re`, so schemathesis and generated clients).
 */
export const agentNameSchema = z
  .string()
  .trim()
  .min(1, 'Name is required')
  .max(64, 'Name must be at most 64 characters')
  .refine((name) => AGENT_NAME_CHARACTERS.test(name), 'Name may contain letters, digits, spaces and _ . -')
  .describe('Letters and digits of any script, spaces and _ . -');
export const agentDescriptionSchema = z.string().trim().max(500, 'Description must be at most 500 characters');

/**
 * Submission versions are "1.0.N": N counts the agent's accepted submissions from 1, decided on the
 * agent's own stream so two concurrent uploads can never get the same number.
 */
export const submissionVersion = (sequence: number): string => `1.0.${sequence}`;

export const AgentCreated = defineEvent('AgentCreated', {
  data: z.object({
    agentId: z.string(),
    ownerId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    environmentId: z.string(),
    createdAt: z.string(),
  }),
});
export type AgentCreated = EventOf<typeof AgentCreated>;
export const AgentUpdated = defineEvent('AgentUpdated', {
  data: z.object({ agentId: z.string(), name: z.string().optional(), description: z.string().nullable().optional(), updatedAt: z.string() }),
});
export type AgentUpdated = EventOf<typeof AgentUpdated>;
export const AgentDeleted = defineEvent('AgentDeleted', {
  data: z.object({ agentId: z.string(), ownerId: z.string(), name: z.string(), deletedAt: z.string() }),
});
export type AgentDeleted = EventOf<typeof AgentDeleted>;
/** A submission got its version; counted against the agent's daily submission quota. */
export const SubmissionAccepted = defineEvent('SubmissionAccepted', {
  data: z.object({ agentId: z.string(), submissionId: z.string(), sequence: z.number(), version: z.string(), acceptedAt: z.string() }),
});
export type SubmissionAccepted = EventOf<typeof SubmissionAccepted>;
export const ActiveSubmissionChanged = defineEvent('ActiveSubmissionChanged', {
  data: z.object({
    agentId: z.string(),
    submissionId: z.string(),
    previousSubmissionId: z.string().nullable(),
    version: z.string(),
    changedAt: z.string(),
  }),
});
export type ActiveSubmissionChanged = EventOf<typeof ActiveSubmissionChanged>;
export type AgentEvent = AgentCreated | AgentUpdated | AgentDeleted | SubmissionAccepted | ActiveSubmissionChanged;

export interface AgentDetails {
  agentId: string;
  ownerId: string;
  name: string;
  description: string | null;
  environmentId: string;
  createdAt: string;
  activeSubmissionId: string | null;
  /** Sequence number of each accepted submission. */
  submissions: Record<string, number>;
  /** When each submission was accepted (for the daily quota). */
  acceptedAt: string[];
}

export type ActiveAgent = { status: 'active' } & AgentDetails;
export type Agent = { status: 'none' } | ActiveAgent | ({ status: 'deleted' } & AgentDetails);

export type AgentCommand =
  | { type: 'CreateAgent'; agentId: string; ownerId: string; name: string; description: string | null; environmentId: string; now: string }
  | { type: 'UpdateAgent'; agentId: string; userId: string; name?: string; description?: string | null; now: string }
  | { type: 'DeleteAgent'; agentId: string; userId: string; now: string }
  | { type: 'AcceptSubmission'; agentId: string; submissionId: string; userId: string; dailyQuota: number; now: string }
  /** Sent when a build succeeded; a newer active version is never replaced by an older one. */
  | { type: 'ActivateSubmission'; agentId: string; submissionId: string; now: string };

export const initialAgent = (): Agent => ({ status: 'none' });

export function evolveAgent(state: Agent, event: AgentEvent): Agent {
  switch (event.type) {
    case 'AgentCreated':
      return { status: 'active', ...event.data, activeSubmissionId: null, submissions: {}, acceptedAt: [] };
    case 'AgentUpdated':
      if (state.status === 'none') return state;
      return {
        ...state,
        name: event.data.name ?? state.name,
        description: event.data.description === undefined ? state.description : event.data.description,
      };
    case 'AgentDeleted':
      return state.status === 'none' ? state : { ...state, status: 'deleted' };
    case 'SubmissionAccepted':
      if (state.status === 'none') return state;
      return {
        ...state,
        submissions: { ...state.submissions, [event.data.submissionId]: event.data.sequence },
        acceptedAt: [...state.acceptedAt, event.data.acceptedAt],
      };
    case 'ActiveSubmissionChanged':
      return state.status === 'none' ? state : { ...state, activeSubmissionId: event.data.submissionId };
  }
}

/** The agent, as its owner may change it: 404 when missing or deleted, 403 for anyone else. */
function ownedAgent(state: Agent, userId: string): ActiveAgent {
  if (state.status !== 'active') throw new NotFoundError('Agent not found');
  if (state.ownerId !== userId) throw new ForbiddenError('Not the owner of this agent');
  return state;
}

export function submissionsToday(state: AgentDetails, now: string): number {
  const today = utcDay(now);
  return state.acceptedAt.filter((at) => utcDay(at) === today).length;
}

export function decideAgent(command: AgentCommand, state: Agent): AgentEvent[] {
  switch (command.type) {
    case 'CreateAgent': {
      if (state.status !== 'none') throw new ConflictError('Agent already exists');
      const { agentId, ownerId, name, description, environmentId, now } = command;
      return [{ type: 'AgentCreated', data: { agentId, ownerId, name, description, environmentId, createdAt: now } }];
    }
    case 'UpdateAgent': {
      const agent = ownedAgent(state, command.userId);
      const data: AgentUpdated['data'] = { agentId: agent.agentId, updatedAt: command.now };
      if (command.name !== undefined && command.name !== agent.name) data.name = command.name;
      if (command.description !== undefined && command.description !== agent.description) data.description = command.description;
      return [{ type: 'AgentUpdated', data }];
    }
    case 'DeleteAgent': {
      const agent = ownedAgent(state, command.userId);
      return [{ type: 'AgentDeleted', data: { agentId: agent.agentId, ownerId: agent.ownerId, name: agent.name, deletedAt: command.now } }];
    }
    case 'AcceptSubmission': {
      const agent = ownedAgent(state, command.userId);
      if (agent.submissions[command.submissionId] !== undefined) return [];
      if (submissionsToday(agent, command.now) >= command.dailyQuota) {
        throw new RateLimitedError(`Submission quota exceeded: at most ${command.dailyQuota} submissions per agent per day`, {
          category: 'submissions_per_day',
          limit: command.dailyQuota,
          retry_at: startOfNextUtcDay(command.now),
        });
      }
      const sequence = Object.keys(agent.submissions).length + 1;
      return [
        {
          type: 'SubmissionAccepted',
          data: { agentId: agent.agentId, submissionId: command.submissionId, sequence, version: submissionVersion(sequence), acceptedAt: command.now },
        },
      ];
    }
    case 'ActivateSubmission': {
      if (state.status !== 'active') return []; // a deleted agent plays no more matches
      const sequence = state.submissions[command.submissionId];
      if (sequence === undefined) throw new ValidationError('Submission does not belong to this agent', { submissionId: command.submissionId });
      if (state.activeSubmissionId === command.submissionId) return [];
      const activeSequence = state.activeSubmissionId === null ? 0 : (state.submissions[state.activeSubmissionId] ?? 0);
      if (sequence < activeSequence) return [];
      return [
        {
          type: 'ActiveSubmissionChanged',
          data: {
            agentId: state.agentId,
            submissionId: command.submissionId,
            previousSubmissionId: state.activeSubmissionId,
            version: submissionVersion(sequence),
            changedAt: command.now,
          },
        },
      ];
    }
  }
}

export const agentDecider: Decider<AgentCommand, Agent, AgentEvent> = {
  initialState: initialAgent,
  evolve: evolveAgent,
  decide: decideAgent,
};
