import type { Decider, DomainEvent } from './decider';

/**
 * A value held by at most one holder, enforced by the event store itself: one stream per value,
 * appended with optimistic concurrency, so two concurrent claims cannot both win (docs/ARCHITECTURE.md,
 * "Uniqueness through the event store"). The one rule behind usernames and emails
 * (`identity/unique-claim.ts`) and agent names (`arena/agent-name-claim.ts`); each of those only names
 * its events and its conflict.
 */

/** A claim is made before the holder is recorded: a claim whose holder never appeared is free after this. */
export const ABANDONED_CLAIM_AFTER_MS = 60_000;

/** What the handler found about the current holder: it exists, it was deleted, or it never appeared. */
export type ClaimHolder = 'alive' | 'deleted' | 'missing';

export interface UniqueClaim {
  holderId: string | null;
  claimedAt: string | null;
}

export type ClaimRequest =
  | { kind: 'claim'; holderId: string; now: string; currentHolder: ClaimHolder }
  | { kind: 'release'; holderId: string; now: string };

export interface ClaimChange {
  kind: 'claimed' | 'released';
  holderId: string;
  at: string;
}

/** How one kind of claim names its commands, events and conflict. */
export interface UniqueClaimVocabulary<Command, Event extends DomainEvent> {
  request(command: Command): ClaimRequest;
  claimed(command: Command): Event;
  released(command: Command): Event;
  change(event: Event): ClaimChange;
  conflict(command: Command): Error;
}

function isFree(state: UniqueClaim, holder: ClaimHolder, now: string): boolean {
  if (state.holderId === null || holder === 'deleted') return true;
  if (holder === 'alive' || state.claimedAt === null) return false;
  return Date.parse(now) - Date.parse(state.claimedAt) > ABANDONED_CLAIM_AFTER_MS;
}

export function uniqueClaimDeciderOf<Command, Event extends DomainEvent>(
  vocabulary: UniqueClaimVocabulary<Command, Event>,
): Decider<Command, UniqueClaim, Event> {
  return {
    initialState: () => ({ holderId: null, claimedAt: null }),
    evolve: (state, event) => {
      const change = vocabulary.change(event);
      if (change.kind === 'claimed') return { holderId: change.holderId, claimedAt: change.at };
      return state.holderId === change.holderId ? { holderId: null, claimedAt: null } : state;
    },
    decide: (command, state) => {
      const request = vocabulary.request(command);
      switch (request.kind) {
        case 'claim':
          if (state.holderId === request.holderId) return [];
          if (!isFree(state, request.currentHolder, request.now)) throw vocabulary.conflict(command);
          return [vocabulary.claimed(command)];
        case 'release':
          if (state.holderId !== request.holderId) return [];
          return [vocabulary.released(command)];
      }
    },
  };
}
