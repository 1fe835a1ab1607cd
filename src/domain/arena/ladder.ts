import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { INITIAL_RATING, rateMatch, type EloOutcome } from './elo';
import type { MatchWinner } from './replay';

/** One ladder (Elo ratings) per environment. */
export const ladderStreamId = (environmentId: string): string => `ladder-${environmentId}`;

const SideRatingSchema = z.object({ agentId: z.string(), before: z.number(), after: z.number(), change: z.number() });
export type SideRating = z.infer<typeof SideRatingSchema>;

export const MatchRated = defineEvent('MatchRated', {
  data: z.object({
    matchId: z.string(),
    environmentId: z.string(),
    agent1: SideRatingSchema,
    agent2: SideRatingSchema,
    winner: z.enum(['agent_1', 'agent_2', 'draw']) satisfies z.ZodType<MatchWinner>,
    kFactor: z.number(),
    /** The match's completion time, so the event carries no clock of the rater. */
    ratedAt: z.string(),
  }),
});
export type MatchRated = EventOf<typeof MatchRated>;
export type LadderEvent = MatchRated;

export interface Ladder {
  ratings: ReadonlyMap<string, number>;
  /** Match ids already rated: a match is rated once, whatever is redelivered. */
  ratedMatches: ReadonlySet<string>;
}

export type LadderCommand = {
  type: 'RateMatch';
  matchId: string;
  environmentId: string;
  agent1Id: string;
  agent2Id: string;
  winner: MatchWinner;
  kFactor: number;
  completedAt: string;
};

export const initialLadder = (): Ladder => ({ ratings: new Map(), ratedMatches: new Set() });

export const ratingOf = (ladder: Ladder, agentId: string): number => ladder.ratings.get(agentId) ?? INITIAL_RATING;

export function evolveLadder(state: Ladder, event: LadderEvent): Ladder {
  const ratings = new Map(state.ratings);
  ratings.set(event.data.agent1.agentId, event.data.agent1.after);
  ratings.set(event.data.agent2.agentId, event.data.agent2.after);
  return { ratings, ratedMatches: new Set(state.ratedMatches).add(event.data.matchId) };
}

const OUTCOME: Record<MatchWinner, EloOutcome> = { agent_1: 'a_wins', agent_2: 'b_wins', draw: 'draw' };

export function decideLadder(command: LadderCommand, state: Ladder): LadderEvent[] {
  if (state.ratedMatches.has(command.matchId)) return [];
  const rated = rateMatch({
    ratingA: ratingOf(state, command.agent1Id),
    ratingB: ratingOf(state, command.agent2Id),
    outcome: OUTCOME[command.winner],
    kFactor: command.kFactor,
  });
  return [
    {
      type: 'MatchRated',
      data: {
        matchId: command.matchId,
        environmentId: command.environmentId,
        agent1: { agentId: command.agent1Id, ...rated.a },
        agent2: { agentId: command.agent2Id, ...rated.b },
        winner: command.winner,
        kFactor: rated.kFactor,
        ratedAt: command.completedAt,
      },
    },
  ];
}

export const ladderDecider: Decider<LadderCommand, Ladder, LadderEvent> = {
  initialState: initialLadder,
  evolve: evolveLadder,
  decide: decideLadder,
};
