import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError } from '../shared/errors';
import { ABANDONED_CLAIM_AFTER_MS, uniqueClaimDeciderOf, type UniqueClaim as HeldClaim } from '../shared/unique-claim';

/**
 * Usernames and emails, unique through the event store: one stream per claimed value
 * (`unique-<kind>-<value>`), decided by the shared claim rule (src/domain/shared/unique-claim.ts).
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

export type UniqueClaim = HeldClaim;

/** A registration that died between claiming and recording its user leaves a claim free after this. */
export { ABANDONED_CLAIM_AFTER_MS };

export type UniqueClaimCommand =
  /** `currentOwnerExists`: whether the current owner's account exists (looked up by the handler). */
  | { type: 'Claim'; kind: UniqueKind; value: string; ownerId: string; now: string; currentOwnerExists: boolean }
  | { type: 'Release'; kind: UniqueKind; value: string; ownerId: string; now: string };

export const uniqueClaimDecider = uniqueClaimDeciderOf<UniqueClaimCommand, UniqueClaimEvent>({
  request: (command) =>
    command.type === 'Claim'
      ? { kind: 'claim', holderId: command.ownerId, now: command.now, currentHolder: command.currentOwnerExists ? 'alive' : 'missing' }
      : { kind: 'release', holderId: command.ownerId, now: command.now },
  claimed: ({ kind, value, ownerId, now }) => ({ type: 'ValueClaimed', data: { kind, value, ownerId, at: now } }),
  released: ({ kind, value, ownerId, now }) => ({ type: 'ValueReleased', data: { kind, value, ownerId, at: now } }),
  change: (event) => ({ kind: event.type === 'ValueClaimed' ? 'claimed' : 'released', holderId: event.data.ownerId, at: event.data.at }),
  conflict: (command) => new ConflictError(`${command.kind === 'email' ? 'Email' : 'Username'} already exists`, { field: command.kind }),
});
