import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { RateLimitedError } from '../shared/errors';
import { matchAvailability, type MatchQuotaPolicy } from './match-quota';
import { startOfUtcDay } from './utc-day';

/**
 * An agent's match slots: every match request reserves one on each agent's own stream, appended
 * with optimistic concurrency, so the daily quota and the cooldown hold even when requests for the
 * same agent arrive at the same instant (a read model could not decide that). A match that could
 * not be played releases its slots: failed matches do not count.
 */
export const matchSlotsStreamId = (agentId: string): string => `matchslots-${agentId}`;

/**
 * `own`: a match the agent's side chose (its owner challenged, or the matchmaker paired it): counts
 * against its daily quota and cooldown. `challenge_received`: another user's agent challenged it:
 * counts only against its own daily budget of received challenges (the same size as the quota,
 * no cooldown), so being challenged never uses up the agent's own matches. Events recorded before
 * the distinction carry no kind and are `own`.
 */
export type MatchSlotKind = 'own' | 'challenge_received';

export const MatchSlotReserved = defineEvent('MatchSlotReserved', {
  data: z.object({ agentId: z.string(), matchId: z.string(), reservedAt: z.string(), kind: z.enum(['own', 'challenge_received']).optional() }),
});
export type MatchSlotReserved = EventOf<typeof MatchSlotReserved>;
export const MatchSlotReleased = defineEvent('MatchSlotReleased', { data: z.object({ agentId: z.string(), matchId: z.string(), releasedAt: z.string() }) });
export type MatchSlotReleased = EventOf<typeof MatchSlotReleased>;
export type MatchSlotEvent = MatchSlotReserved | MatchSlotReleased;

/** Reservations still held, from the previous UTC day on (all the quota and cooldown need). */
export interface MatchSlots {
  reservations: { matchId: string; reservedAt: string; kind: MatchSlotKind }[];
}

export type MatchSlotCommand =
  | { type: 'ReserveMatchSlot'; agentId: string; matchId: string; kind: MatchSlotKind; policy: MatchQuotaPolicy; now: string }
  | { type: 'ReleaseMatchSlot'; agentId: string; matchId: string; now: string };

const DAY_MS = 24 * 3600 * 1000;

export function evolveMatchSlots(state: MatchSlots, event: MatchSlotEvent): MatchSlots {
  if (event.type === 'MatchSlotReleased') {
    return { reservations: state.reservations.filter((r) => r.matchId !== event.data.matchId) };
  }
  const keepFrom = Date.parse(startOfUtcDay(event.data.reservedAt)) - DAY_MS;
  return {
    reservations: [
      ...state.reservations.filter((r) => Date.parse(r.reservedAt) >= keepFrom),
      { matchId: event.data.matchId, reservedAt: event.data.reservedAt, kind: event.data.kind ?? 'own' },
    ],
  };
}

export function decideMatchSlots(command: MatchSlotCommand, state: MatchSlots): MatchSlotEvent[] {
  const held = state.reservations.some((r) => r.matchId === command.matchId);
  switch (command.type) {
    case 'ReserveMatchSlot': {
      if (held) return [];
      const today = startOfUtcDay(command.now);
      const sameKind = state.reservations.filter((r) => r.kind === command.kind);
      const matchesToday = sameKind.filter((r) => r.reservedAt >= today).length;
      const lastMatchAt = sameKind.reduce<string | null>((last, r) => (last === null || r.reservedAt > last ? r.reservedAt : last), null);
      const received = command.kind === 'challenge_received';
      const availability = matchAvailability({
        matchesToday,
        // Received challenges have a daily budget but no cooldown: the challenger's cooldown paces them.
        lastMatchAt: received ? null : lastMatchAt,
        now: command.now,
        policy: received ? { matchesPerDay: command.policy.matchesPerDay, cooldownSec: 0 } : command.policy,
      });
      if (!availability.canMatch) {
        const what = received ? 'challenges received today' : 'match quota or cooldown';
        throw new RateLimitedError(`Agent ${command.agentId} cannot play before ${availability.nextMatchAvailableAt} (${what})`, {
          category: received ? 'agent_challenge_quota' : 'agent_match_quota',
          agent_id: command.agentId,
          next_match_available_at: availability.nextMatchAvailableAt,
        });
      }
      return [
        {
          type: 'MatchSlotReserved',
          data: { agentId: command.agentId, matchId: command.matchId, reservedAt: command.now, kind: command.kind },
        },
      ];
    }
    case 'ReleaseMatchSlot':
      return held ? [{ type: 'MatchSlotReleased', data: { agentId: command.agentId, matchId: command.matchId, releasedAt: command.now } }] : [];
  }
}

export const matchSlotsDecider: Decider<MatchSlotCommand, MatchSlots, MatchSlotEvent> = {
  initialState: () => ({ reservations: [] }),
  evolve: evolveMatchSlots,
  decide: decideMatchSlots,
};
