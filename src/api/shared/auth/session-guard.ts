import { loadAggregate } from '../../../commands/handle-command';
import { sessionDecider, signInSessionStreamId } from '../../../domain/identity/session';
import { userStreamId } from '../../../domain/identity/user';
import { UnauthorizedError } from '../../../domain/shared/errors';
import type { EventStore } from '../../../infrastructure/eventstore/event-store';
import type { AuthenticatedUser } from '../route';

/** What authentication asks after a token's signature and expiry passed. */
export interface SessionCheck {
  /** Throws UnauthorizedError unless the token's user exists and its session is active. */
  assertActive(user: AuthenticatedUser): Promise<void>;
}

export interface SessionGuardOptions {
  /** How long a session's state is trusted from memory: a revocation by another process shows after at most this. */
  sessionTtlMs?: number;
  /** Bound on each cache; the oldest entry goes first. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Checks every signed-in request against the event store, cheaply: a user known to exist stays known
 * (users are never deleted), a session's state is cached for a few seconds, and this process's own
 * revocations apply at once (`markRevoked`).
 */
export class SessionGuard implements SessionCheck {
  readonly #knownUsers = new Set<string>();
  readonly #sessions = new Map<string, { userId: string; active: boolean; checkedAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(
    private readonly store: EventStore,
    options: SessionGuardOptions = {},
  ) {
    this.#ttlMs = options.sessionTtlMs ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async assertActive(user: AuthenticatedUser): Promise<void> {
    if (!(await this.#userExists(user.id))) throw new UnauthorizedError('Invalid access token: unknown user');
    if (user.sessionId === undefined) throw new UnauthorizedError('Invalid access token: no session');
    const session = await this.#session(user.sessionId);
    if (session === undefined || session.userId !== user.id) throw new UnauthorizedError('Invalid access token: unknown session');
    if (!session.active) throw new UnauthorizedError('Session revoked: sign in again');
  }

  /** Called by the process that recorded a revocation, so its own next request already sees it. */
  markRevoked(sessionId: string): void {
    const known = this.#sessions.get(sessionId);
    if (known) known.active = false;
  }

  async #userExists(userId: string): Promise<boolean> {
    if (this.#knownUsers.has(userId)) return true;
    const exists = (await this.store.readStream(userStreamId(userId), { maxCount: 1 })).length > 0;
    if (exists) remember(this.#knownUsers, userId, this.#maxEntries);
    return exists;
  }

  async #session(sessionId: string): Promise<{ userId: string; active: boolean } | undefined> {
    const cached = this.#sessions.get(sessionId);
    if (cached && (!cached.active || this.#now() - cached.checkedAt < this.#ttlMs)) return cached;
    const { state } = await loadAggregate(this.store, signInSessionStreamId(sessionId), sessionDecider);
    if (state.status === 'none') return undefined;
    const entry = { userId: state.userId, active: state.status === 'active', checkedAt: this.#now() };
    this.#sessions.delete(sessionId);
    if (this.#sessions.size >= this.#maxEntries) this.#sessions.delete(this.#sessions.keys().next().value as string);
    this.#sessions.set(sessionId, entry);
    return entry;
  }
}

function remember(set: Set<string>, value: string, maxEntries: number): void {
  if (set.size >= maxEntries) set.delete(set.values().next().value as string);
  set.add(value);
}
