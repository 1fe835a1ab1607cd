import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError } from '../shared/errors';

/**
 * Uniqueness (usernames, emails) enforced by the event store itself: one stream per claimed value,
 * appended with optimistic concurrency, so two concurrent registrations cannot both win.
 */
export type UniqueKind = 'username' | 'email';

export function normaliseUniqueValue(kind: UniqueKind, value: string): string {
  void kind; // both kinds compare case-insensitively; kept as a parameter so a kind with other rules can differ
  return value.trim().toLowerCase();
}

export const uniqueClaimStreamId = (kind: UniqueKind, value: string): string =>
  `unique-${kind}-${normaliseUniqueValue(kind, value)}`;

const UniqueValueData = z.object({ kind: z.enum(['username', 'email']), value: z.string(), ownerId: z.string(), at: z.string() });
export const ValueClaimed = defineEvent('ValueClaimed', { data: UniqueValueData });
export type ValueClaimed = EventOf<typeof ValueClaimed>;
export const ValueReleased = defineEvent('ValueReleased', { data: UniqueValueData });
export type ValueReleased = EventOf<typeof ValueReleased>;
export type UniqueClaimEvent = ValueClaimed | ValueReleased;

export type UniqueClaim = { ownerId: string | null; claimedAt: string | null };

/**
 * A registration claims its username and email before it records the user. A process killed in
 * between leaves a claim whose owner never came to exist; after this grace period (far longer
 * than any registration takes) such a claim is abandoned and can be taken over.
 */
export const ABANDONED_CLAIM_AFTER_MS = 60_000;

export type UniqueClaimCommand =
  /** `currentOwnerExists`: whether the current owner's account exists (looked up by the handler). */
  | { type: 'Claim'; kind: UniqueKind; value: string; ownerId: string; now: string; currentOwnerExists: boolean }
  | { type: 'Release'; kind: UniqueKind; value: string; ownerId: string; now: string };

function isAbandoned(state: UniqueClaim, currentOwnerExists: boolean, now: string): boolean {
  if (currentOwnerExists || state.claimedAt === null) return false;
  return Date.parse(now) - Date.parse(state.claimedAt) > ABANDONED_CLAIM_AFTER_MS;
}

export function decideUniqueClaim(command: UniqueClaimCommand, state: UniqueClaim): UniqueClaimEvent[] {
  const { kind, value, ownerId, now } = command;
  switch (command.type) {
    case 'Claim':
      if (state.ownerId === ownerId) return [];
      if (state.ownerId !== null && !isAbandoned(state, command.currentOwnerExists, now)) {
        throw new ConflictError(`${kind === 'email' ? 'Email' : 'Username'} already exists`, { field: kind });
      }
      return [{ type: 'ValueClaimed', data: { kind, value, ownerId, at: now } }];
    case 'Release':
      if (state.ownerId !== ownerId) return [];
      return [{ type: 'ValueReleased', data: { kind, value, ownerId, at: now } }];
  }
}

export const uniqueClaimDecider: Decider<UniqueClaimCommand, UniqueClaim, UniqueClaimEvent> = {
  initialState: () => ({ ownerId: null, claimedAt: null }),
  evolve: (state, event) => {
    if (event.type === 'ValueClaimed') return { ownerId: event.data.ownerId, claimedAt: event.data.at };
    return state.ownerId === event.data.ownerId ? { ownerId: null, claimedAt: null } : state;
  },
  decide: decideUniqueClaim,
};
