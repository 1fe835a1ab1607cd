import { matchSlotsDecider, type MatchSlotEvent, type MatchSlotKind } from '../../../src/domain/arena/match-slots';
import { RateLimitedError } from '../../../src/domain/shared/errors';
import { deciderSpec } from '../../support/decider-spec';

const spec = deciderSpec(matchSlotsDecider);
const policy = { matchesPerDay: 2, cooldownSec: 60 };
const reserved = (matchId: string, reservedAt: string, kind: MatchSlotKind = 'own'): MatchSlotEvent => ({
  type: 'MatchSlotReserved',
  data: { agentId: 'a', matchId, reservedAt, kind },
});
const released = (matchId: string, releasedAt: string): MatchSlotEvent => ({ type: 'MatchSlotReleased', data: { agentId: 'a', matchId, releasedAt } });
const reserve = (matchId: string, now: string, kind: MatchSlotKind = 'own') => ({ type: 'ReserveMatchSlot' as const, agentId: 'a', matchId, kind, policy, now });

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

  it('a reservation recorded before slot kinds existed counts as the agent\'s own', () => {
    const legacy: MatchSlotEvent = { type: 'MatchSlotReserved', data: { agentId: 'a', matchId: 'm1', reservedAt: '2026-05-01T10:00:00.000Z' } };
    spec.given([legacy]).when(reserve('m2', '2026-05-01T10:00:30.000Z')).thenThrows(RateLimitedError);
  });

  it('challenges received never use up the agent\'s own quota or cooldown', () => {
    const challenged = [reserved('c1', '2026-05-01T10:00:00.000Z', 'challenge_received'), reserved('c2', '2026-05-01T10:00:01.000Z', 'challenge_received')];
    // Its own match right after two received challenges: no cooldown, quota untouched.
    spec.given(challenged).when(reserve('m1', '2026-05-01T10:00:02.000Z')).then([reserved('m1', '2026-05-01T10:00:02.000Z')]);
  });

  it('challenges received have their own daily budget (the quota\'s size, no cooldown)', () => {
    spec.given([reserved('c1', '2026-05-01T10:00:00.000Z', 'challenge_received')])
      .when(reserve('c2', '2026-05-01T10:00:01.000Z', 'challenge_received'))
      .then([reserved('c2', '2026-05-01T10:00:01.000Z', 'challenge_received')]);
    const full = [reserved('c1', '2026-05-01T10:00:00.000Z', 'challenge_received'), reserved('c2', '2026-05-01T10:00:01.000Z', 'challenge_received')];
    spec.given(full).when(reserve('c3', '2026-05-01T12:00:00.000Z', 'challenge_received')).thenThrows(RateLimitedError, /challenges received today/);
    // ... and the agent's own matches do not use up the challenge budget either.
    spec.given([reserved('m1', '2026-05-01T10:00:00.000Z'), reserved('m2', '2026-05-01T11:00:00.000Z')])
      .when(reserve('c1', '2026-05-01T11:00:01.000Z', 'challenge_received'))
      .then([reserved('c1', '2026-05-01T11:00:01.000Z', 'challenge_received')]);
  });

  it('keeps only the reservations the rules can still need', () => {
    const events = [reserved('old', '2026-04-01T10:00:00.000Z'), reserved('yesterday', '2026-04-30T22:00:00.000Z'), reserved('today', '2026-05-01T08:00:00.000Z')];
    const state = events.reduce(matchSlotsDecider.evolve, matchSlotsDecider.initialState());
    expect(state.reservations.map((r) => r.matchId)).toEqual(['yesterday', 'today']);
  });
});
