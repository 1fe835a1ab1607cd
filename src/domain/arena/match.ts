import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError, ForbiddenError, InvalidStateError, NotFoundError, ValidationError } from '../shared/errors';
import type { Forfeit, MatchWinner } from './replay';

export const matchStreamId = (matchId: string): string => `match-${matchId}`;

/** The contract's status values. */
export type MatchStatus = 'queued' | 'running' | 'completed' | 'failed';

const MatchParticipantSchema = z.object({
  agentId: z.string(),
  /** The agent's active submission when the match was requested: the code that plays. */
  submissionId: z.string(),
  ownerId: z.string(),
});
export type MatchParticipant = z.infer<typeof MatchParticipantSchema>;

const MATCH_SIDES = ['agent_1', 'agent_2'] as const;
const MatchWinnerSchema = z.enum([...MATCH_SIDES, 'draw']) satisfies z.ZodType<MatchWinner>;
const FORFEIT_REASONS = ['crashed', 'timeout', 'match_timeout', 'invalid_action', 'protocol_error', 'output_limit', 'sandbox_error'] as const;
const ForfeitSchema = z.object({
  agent: z.enum(MATCH_SIDES),
  reason: z.enum(FORFEIT_REASONS),
  detail: z.string(),
  step: z.number(),
}) satisfies z.ZodType<Forfeit>;

export const MatchRequested = defineEvent('MatchRequested', {
  data: z.object({
    matchId: z.string(),
    environmentId: z.string(),
    environmentOptions: z.record(z.string(), z.number()),
    seed: z.number(),
    agent1: MatchParticipantSchema,
    agent2: MatchParticipantSchema,
    source: z.enum(['manual', 'matchmaker']),
    /** The user who asked (manual matches); null for the matchmaker. */
    requestedBy: z.string().nullable(),
    requestedAt: z.string(),
  }),
});
export type MatchRequested = EventOf<typeof MatchRequested>;
export const MatchStarted = defineEvent('MatchStarted', { data: z.object({ matchId: z.string(), startedAt: z.string() }) });
export type MatchStarted = EventOf<typeof MatchStarted>;
export const MatchCompleted = defineEvent('MatchCompleted', {
  data: z.object({
    matchId: z.string(),
    environmentId: z.string(),
    agent1Id: z.string(),
    agent2Id: z.string(),
    winner: MatchWinnerSchema,
    /** The winning agent's id; null for a draw. */
    winnerId: z.string().nullable(),
    score1: z.number(),
    score2: z.number(),
    totalSteps: z.number(),
    executionTimeSec: z.number(),
    forfeits: z.array(ForfeitSchema),
    replayJsonKey: z.string(),
    replayHtmlKey: z.string(),
    completedAt: z.string(),
  }),
});
export type MatchCompleted = EventOf<typeof MatchCompleted>;
/** Not the agents' fault (no sandbox, a missing build): the match is not rated. */
export const MatchFailed = defineEvent('MatchFailed', { data: z.object({ matchId: z.string(), reason: z.string(), failedAt: z.string() }) });
export type MatchFailed = EventOf<typeof MatchFailed>;
export type MatchEvent = MatchRequested | MatchStarted | MatchCompleted | MatchFailed;

export type Match =
  | { status: 'none' }
  | {
      status: MatchStatus;
      matchId: string;
      environmentId: string;
      environmentOptions: Record<string, number>;
      seed: number;
      agent1: MatchParticipant;
      agent2: MatchParticipant;
      winnerId: string | null;
    };

export type MatchCommand =
  | ({ type: 'RequestMatch' } & Omit<MatchRequested['data'], 'requestedAt'> & { now: string })
  | { type: 'StartMatch'; now: string }
  | ({ type: 'CompleteMatch' } & Omit<MatchCompleted['data'], 'matchId' | 'environmentId' | 'agent1Id' | 'agent2Id' | 'winnerId' | 'completedAt'> & { now: string })
  | { type: 'FailMatch'; reason: string; now: string };

export const initialMatch = (): Match => ({ status: 'none' });

/**
 * A manual match is a challenge made with the caller's own agent: agent_1 must belong to whoever
 * requested it, or anyone could spend another user's agent quota and cooldown. The challenged
 * agent_2 may be anyone's (its slot is a received challenge, see match-slots.ts).
 */
export function assertChallengerOwned(request: { source: 'manual' | 'matchmaker'; requestedBy: string | null; agent1: MatchParticipant }): void {
  if (request.source === 'manual' && request.agent1.ownerId !== request.requestedBy) {
    throw new ForbiddenError('agent_1_id must be one of your own agents: a challenge is made with your agent', {
      fields: { agent_1_id: 'not your agent' },
    });
  }
}

export function evolveMatch(state: Match, event: MatchEvent): Match {
  if (event.type === 'MatchRequested') {
    const { matchId, environmentId, environmentOptions, seed, agent1, agent2 } = event.data;
    return { status: 'queued', matchId, environmentId, environmentOptions, seed, agent1, agent2, winnerId: null };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'MatchStarted':
      return { ...state, status: 'running' };
    case 'MatchCompleted':
      return { ...state, status: 'completed', winnerId: event.data.winnerId };
    case 'MatchFailed':
      return { ...state, status: 'failed' };
  }
}

export function decideMatch(command: MatchCommand, state: Match): MatchEvent[] {
  if (command.type === 'RequestMatch') {
    if (state.status !== 'none') throw new ConflictError('Match already exists');
    assertChallengerOwned(command);
    if (command.agent1.agentId === command.agent2.agentId) throw new ValidationError('An agent cannot play against itself', { field: 'agent_2_id' });
    const { type: _type, now, ...data } = command;
    void _type;
    return [{ type: 'MatchRequested', data: { ...data, requestedAt: now } }];
  }
  if (state.status === 'none') throw new NotFoundError('Match not found');
  switch (command.type) {
    case 'StartMatch':
      // Running again is a worker that died mid-match: it plays the match again (same seed).
      if (state.status === 'queued') return [{ type: 'MatchStarted', data: { matchId: state.matchId, startedAt: command.now } }];
      return [];
    case 'CompleteMatch': {
      if (state.status === 'completed') return [];
      if (state.status !== 'running') throw new InvalidStateError(`Match is ${state.status}, not running`);
      const { type: _type, now, ...result } = command;
      void _type;
      const winnerId = result.winner === 'agent_1' ? state.agent1.agentId : result.winner === 'agent_2' ? state.agent2.agentId : null;
      return [
        {
          type: 'MatchCompleted',
          data: {
            matchId: state.matchId,
            environmentId: state.environmentId,
            agent1Id: state.agent1.agentId,
            agent2Id: state.agent2.agentId,
            winnerId,
            ...result,
            completedAt: now,
          },
        },
      ];
    }
    case 'FailMatch':
      if (state.status === 'completed' || state.status === 'failed') return [];
      return [{ type: 'MatchFailed', data: { matchId: state.matchId, reason: command.reason, failedAt: command.now } }];
  }
}

export const matchDecider: Decider<MatchCommand, Match, MatchEvent> = {
  initialState: initialMatch,
  evolve: evolveMatch,
  decide: decideMatch,
};
