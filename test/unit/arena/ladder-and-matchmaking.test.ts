import { ladderDecider, type LadderCommand, type LadderEvent } from '../../../src/domain/arena/ladder';
import { matchAvailability } from '../../../src/domain/arena/match-quota';
import { pairCandidates } from '../../../src/domain/arena/matchmaking';
import { deciderSpec } from '../../support/decider-spec';

const at = '2026-03-01T10:00:00.000Z';
const rate = (matchId: string, winner: LadderCommand['winner'], agent1Id = 'A1', agent2Id = 'A2'): LadderCommand => ({
  type: 'RateMatch',
  matchId,
  environmentId: 'pong',
  agent1Id,
  agent2Id,
  winner,
  kFactor: 32,
  completedAt: at,
});
const rated = (matchId: string, winner: LadderCommand['winner'], a: [number, number], b: [number, number], ids = ['A1', 'A2']): LadderEvent => ({
  type: 'MatchRated',
  data: {
    matchId,
    environmentId: 'pong',
    agent1: { agentId: ids[0]!, before: a[0], after: a[1], change: a[1] - a[0] },
    agent2: { agentId: ids[1]!, before: b[0], after: b[1], change: b[1] - b[0] },
    winner,
    kFactor: 32,
    ratedAt: at,
  },
});

describe('Ladder decider (Elo per environment)', () => {
  const spec = deciderSpec(ladderDecider);

  it('rates a first match from 1200 each: winner +16, loser -16', () => {
    spec.given([]).when(rate('M1', 'agent_1')).then([rated('M1', 'agent_1', [1200, 1216], [1200, 1184])]);
    spec.given([]).when(rate('M1', 'agent_2')).then([rated('M1', 'agent_2', [1200, 1184], [1200, 1216])]);
  });

  it('handles draws: equal ratings do not move, unequal ones move towards each other', () => {
    spec.given([]).when(rate('M1', 'draw')).then([rated('M1', 'draw', [1200, 1200], [1200, 1200])]);
    spec.given([rated('M1', 'agent_1', [1200, 1216], [1200, 1184])]).when(rate('M2', 'draw')).then([rated('M2', 'draw', [1216, 1215], [1184, 1185])]);
  });

  it('uses the ratings after earlier matches, per agent', () => {
    const history = [rated('M1', 'agent_1', [1200, 1216], [1200, 1184])];
    // A3 is new (1200) and beats A1 (1216).
    spec.given(history).when(rate('M2', 'agent_1', 'A3', 'A1')).then([rated('M2', 'agent_1', [1200, 1217], [1216, 1199], ['A3', 'A1'])]);
  });

  it('rates each match once: a match id already rated decides nothing (redelivery, two workers)', () => {
    const history = [rated('M1', 'agent_1', [1200, 1216], [1200, 1184])];
    spec.given(history).when(rate('M1', 'agent_1')).then([]);
    spec.given(history).when(rate('M1', 'agent_2')).then([]);
  });

  it('respects the configured K-factor', () => {
    const state = ladderDecider.initialState();
    const [event] = ladderDecider.decide({ ...rate('M1', 'agent_1'), kFactor: 10 }, state);
    expect(event!.data.agent1.change).toBe(5);
    expect(event!.data.kFactor).toBe(10);
  });
});

describe('Match quota and cooldown', () => {
  const policy = { matchesPerDay: 3, cooldownSec: 600 };

  it('an agent under quota and past its cooldown can match now', () => {
    expect(matchAvailability({ matchesToday: 0, lastMatchAt: null, now: at, policy })).toEqual({ canMatch: true, nextMatchAvailableAt: null });
    expect(matchAvailability({ matchesToday: 2, lastMatchAt: '2026-03-01T09:00:00.000Z', now: at, policy })).toEqual({ canMatch: true, nextMatchAvailableAt: null });
  });

  it('in its cooldown, it can match when the cooldown ends', () => {
    expect(matchAvailability({ matchesToday: 1, lastMatchAt: '2026-03-01T09:55:00.000Z', now: at, policy })).toEqual({
      canMatch: false,
      nextMatchAvailableAt: '2026-03-01T10:05:00.000Z',
    });
  });

  it('over its daily quota, it can match at the next UTC midnight (or later, if the cooldown ends later)', () => {
    expect(matchAvailability({ matchesToday: 3, lastMatchAt: '2026-03-01T09:00:00.000Z', now: at, policy })).toEqual({
      canMatch: false,
      nextMatchAvailableAt: '2026-03-02T00:00:00.000Z',
    });
    expect(matchAvailability({ matchesToday: 3, lastMatchAt: '2026-03-01T23:55:00.000Z', now: '2026-03-01T23:56:00.000Z', policy })).toEqual({
      canMatch: false,
      nextMatchAvailableAt: '2026-03-02T00:05:00.000Z',
    });
  });
});

describe('Matchmaking pairs', () => {
  const candidate = (agentId: string, ownerId: string, rating: number) => ({ agentId, ownerId, rating });

  it('pairs neighbours by rating', () => {
    const pairs = pairCandidates([candidate('a', 'u1', 1500), candidate('b', 'u2', 1100), candidate('c', 'u3', 1480), candidate('d', 'u4', 1120)], { maxRatingGap: 400 });
    expect(pairs.map(([x, y]) => [x.agentId, y.agentId])).toEqual([
      ['a', 'c'],
      ['d', 'b'],
    ]);
  });

  it('never pairs two agents of one owner, nor agents further apart than the gap', () => {
    const pairs = pairCandidates([candidate('a', 'u1', 1500), candidate('b', 'u1', 1490), candidate('c', 'u2', 1480), candidate('d', 'u3', 1000)], { maxRatingGap: 200 });
    expect(pairs.map(([x, y]) => [x.agentId, y.agentId])).toEqual([['a', 'c']]);
  });

  it('is deterministic for equal ratings', () => {
    const input = [candidate('z', 'u1', 1200), candidate('y', 'u2', 1200), candidate('x', 'u3', 1200)];
    expect(pairCandidates(input, { maxRatingGap: 400 })).toEqual(pairCandidates([...input].reverse(), { maxRatingGap: 400 }));
  });
});
