import { matchSlotsDecider, type MatchSlotEvent } from '../../../src/domain/arena/match-slots';
import { RateLimitedError } from '../../../src/domain/shared/errors';
import { deciderSpec } from '../../support/decider-spec';

const spec = deciderSpec(matchSlotsDecider);
const policy = { matchesPerDay: 2, cooldownSec: 60 };
const reserved = (matchId: string, reservedAt: string): MatchSlotEvent => ({ type: 'MatchSlotReserved', data: { agentId: 'a', matchId, reservedAt } });
const released = (matchId: string, releasedAt: string): MatchSlotEvent => ({ type: 'MatchSlotReleased', data: { agentId: 'a', matchId, releasedAt } });
const reserve = (matchId: string, now: string) => ({ type: 'ReserveMatchSlot' as const, agentId: 'a', matchId, policy, now });

describe('match slots (quota and cooldown decided on the agent stream)', () => {
  it('reserves a slot for a free agent', () => {
    spec.given([]).when(reserve('m1', '2026-05-01T10:00:00.000Z')).then([reserved('m1', '2026-05-01T10:00:00.000Z')]);
  });

  it('refuses within the cooldown and allows after it', () => {
    const given = [reserved('m1', '2026-05-01T10:00:00.000Z')];
    spec.given(given).when(reserve('m2', '2026-05-01T10:00:59.000Z')).thenThrows(RateLimitedError, /cannot play before 2026-05-01T10:01:00.000Z/);
    spec.given(given).when(reserve('m2', '2026-05-01T10:01:00.000Z')).then([reserved('m2', '2026-05-01T10:01:00.000Z')]);
  });

  it('refuses past the daily quota until the next UTC day', () => {
    const given = [reserved('m1', '2026-05-01T10:00:00.000Z'), reserved('m2', '2026-05-01T11:00:00.000Z')];
    spec.given(given).when(reserve('m3', '2026-05-01T23:59:00.000Z')).thenThrows(RateLimitedError, /2026-05-02T00:00:00.000Z/);
    spec.given(given).when(reserve('m3', '2026-05-02T00:00:00.000Z')).then([reserved('m3', '2026-05-02T00:00:00.000Z')]);
  });

  it('a released slot (a match that could not be played) does not count', () => {
    const given = [reserved('m1', '2026-05-01T10:00:00.000Z'), reserved('m2', '2026-05-01T11:00:00.000Z'), released('m2', '2026-05-01T11:00:05.000Z')];
    spec.given(given).when(reserve('m3', '2026-05-01T12:00:00.000Z')).then([reserved('m3', '2026-05-01T12:00:00.000Z')]);
  });

  it('is idempotent per match: reserving again or releasing twice changes nothing', () => {
    const given = [reserved('m1', '2026-05-01T10:00:00.000Z')];
    spec.given(given).when(reserve('m1', '2026-05-01T10:00:10.000Z')).then([]);
    spec.given([...given, released('m1', '2026-05-01T10:00:20.000Z')]).when({ type: 'ReleaseMatchSlot', agentId: 'a', matchId: 'm1', now: '2026-05-01T10:00:30.000Z' }).then([]);
    spec.given([]).when({ type: 'ReleaseMatchSlot', agentId: 'a', matchId: 'm9', now: '2026-05-01T10:00:30.000Z' }).then([]);
  });

  it('keeps only the reservations the rules can still need', () => {
    const events = [reserved('old', '2026-04-01T10:00:00.000Z'), reserved('yesterday', '2026-04-30T22:00:00.000Z'), reserved('today', '2026-05-01T08:00:00.000Z')];
    const state = events.reduce(matchSlotsDecider.evolve, matchSlotsDecider.initialState());
    expect(state.reservations.map((r) => r.matchId)).toEqual(['yesterday', 'today']);
  });
});
