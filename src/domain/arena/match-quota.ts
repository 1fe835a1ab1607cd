import { startOfNextUtcDay } from './utc-day';

/**
 * How often an agent may play: at most `matchesPerDay` matches per UTC day (requested matches
 * count, failed ones do not) and at least `cooldownSec` between the requests of two matches.
 */
export interface MatchQuotaPolicy {
  matchesPerDay: number;
  cooldownSec: number;
}

export interface MatchAvailability {
  canMatch: boolean;
  /** When the agent may play again; null when it may now. */
  nextMatchAvailableAt: string | null;
}

export function matchAvailability(input: {
  matchesToday: number;
  lastMatchAt: string | null;
  now: string;
  policy: MatchQuotaPolicy;
}): MatchAvailability {
  const now = Date.parse(input.now);
  let next = now;
  if (input.matchesToday >= input.policy.matchesPerDay) next = Math.max(next, Date.parse(startOfNextUtcDay(input.now)));
  if (input.lastMatchAt !== null) next = Math.max(next, Date.parse(input.lastMatchAt) + input.policy.cooldownSec * 1000);
  return next > now ? { canMatch: false, nextMatchAvailableAt: new Date(next).toISOString() } : { canMatch: true, nextMatchAvailableAt: null };
}
