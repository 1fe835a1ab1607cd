import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { AuthenticatedUser } from '../route';

/** The only claim read back from a token already verified: its expiry, in seconds since the epoch. */
const ExpiryClaim = z.object({ exp: z.number() });

export interface VerifiedTokensOptions {
  /** Bound on the tokens kept; the oldest entry goes first. */
  maxEntries?: number;
  /** Milliseconds since the epoch; the clock jsonwebtoken checks `exp` against. */
  now?: () => number;
}

/**
 * Access tokens whose signature and claims this process already verified, by the exact
 * `Authorization` header that carried them, until they expire. A client sends the same token on
 * every request until it refreshes: checking its HMAC and parsing its claims again each time
 * gives the same answer. What can change is checked on every request as before, outside this
 * cache: expiry here (the same rule as jsonwebtoken: valid while `now` in whole seconds < `exp`),
 * the user and the session by the SessionCheck. Only successes are kept, so a forged or broken
 * token is verified (and refused) every time it comes.
 */
export class VerifiedTokens {
  readonly #tokens = new Map<string, { user: AuthenticatedUser; expSec: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: VerifiedTokensOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** The user of a header verified before (a copy), unless its token has expired since (then forgotten). */
  userOf(authorizationHeader: string): AuthenticatedUser | undefined {
    const known = this.#tokens.get(authorizationHeader);
    if (known === undefined) return undefined;
    if (Math.floor(this.#now() / 1000) >= known.expSec) {
      this.#tokens.delete(authorizationHeader);
      return undefined;
    }
    return { ...known.user };
  }

  /**
   * Records a header whose bearer token `token` was just verified (signature, algorithm, expiry,
   * claims) and belongs to `user`. A token without a numeric `exp` is not kept.
   */
  remember(authorizationHeader: string, token: string, user: AuthenticatedUser): void {
    const expiry = ExpiryClaim.safeParse(jwt.decode(token));
    if (!expiry.success) return;
    this.#tokens.delete(authorizationHeader);
    if (this.#tokens.size >= this.#maxEntries) this.#tokens.delete(this.#tokens.keys().next().value as string);
    this.#tokens.set(authorizationHeader, { user: { ...user }, expSec: expiry.data.exp });
  }
}
