import type { Decider, DomainEvent } from '../shared/decider';
import { ConflictError, ForbiddenError, InvalidStateError, NotFoundError, ValidationError } from '../shared/errors';
import type { Forfeit, MatchWinner } from './replay';

export const matchStreamId = (matchId: string): string => `match-${matchId}`;

/** The contract's status values. */
export type MatchStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface MatchParticipant {
  agentId: string;
  /** The agent's active submission when the match was requested: the code that plays. */
  submissionId: string;
  ownerId: string;
}

export type MatchRequested = DomainEvent<
  'MatchRequested',
  {
    matchId: string;
    environmentId: string;
    environmentOptions: Record<string, number>;
    seed: number;
    agent1: MatchParticipant;
    agent2: MatchParticipant;
    source: 'manual' | 'matchmaker';
    /** The user who asked (manual matches); null for the matchmaker. */
    requestedBy: string | null;
    requestedAt: string;
  }
>;
export type MatchStarted = DomainEvent<'MatchStarted', { matchId: string; startedAt: string }>;
export type MatchCompleted = DomainEvent<
  'MatchCompleted',
  {
    matchId: string;
    environmentId: string;
    agent1Id: string;
    agent2Id: string;
    winner: MatchWinner;
    /** The winning agent's id; null for a draw. */
    winnerId: string | null;
    score1: number;
    score2: number;
    totalSteps: number;
    executionTimeSec: number;
    forfeits: Forfeit[];
    replayJsonKey: string;
    replayHtmlKey: string;
    completedAt: string;
  }
>;
/** Not the agents' fault (no sandbox, a missing build): the match is not rated. */
export type MatchFailed = DomainEvent<'MatchFailed', { matchId: string; reason: string; failedAt: string }>;
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
