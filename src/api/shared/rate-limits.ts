import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RateLimitedError } from '../../domain/shared/errors';
import type { Config } from '../../infrastructure/config/config';
import type { Logger } from '../../infrastructure/logging/logger';
import { authOutcomeOf } from './request-context';
import type { RateLimitCategory } from './route';

/**
 * Each contract has its own limits (docs/api-conventions.md, "Rate limits"):
 * - RL-Arena: per-minute budgets by endpoint type (auth 5, submissions 5, matches 10, other 60);
 * - LapXcel: one hourly budget, 1000 per signed-in user, 100 per anonymous client.
 * A budget is one limiter with one counter store, shared by every route that draws from it. A route
 * draws from the budgets of its categories; where it draws from several, every one applies, and
 * the X-RateLimit-* headers describe the one closest to running out (the one that will refuse first).
 */
export const RATE_LIMIT_WINDOW_MS = 60_000;
export const LAPXCEL_RATE_LIMIT_WINDOW_MS = 3_600_000;

type Budget = 'arena-auth' | 'arena-submissions' | 'arena-matches' | 'arena-default' | 'lapxcel' | 'lapxcel-auth' | 'runner';

/**
 * Which budgets a category draws from. Auth routes belong to both contracts, so both limits apply
 * at once: RL-Arena's 5 per minute and LapXcel's anonymous 100 per hour, whichever is stricter then.
 * Their hourly count is their own: browsing public LapXcel pages never locks a client out of login.
 */
const BUDGETS_OF: Record<RateLimitCategory, readonly Budget[]> = {
  auth: ['arena-auth', 'lapxcel-auth'],
  submissions: ['arena-submissions'],
  matches: ['arena-matches'],
  default: ['arena-default'],
  lapxcel: ['lapxcel'],
  runner: ['runner'],
};

export interface RateLimiters {
  /** The limiter chain of a route (its categories' budgets, then the header choice). */
  forRoute(categories: RateLimitCategory | readonly RateLimitCategory[] | undefined): RequestHandler[];
}

type RateLimitConfig = Pick<
  Config,
  | 'RATE_LIMIT_ENABLED'
  | 'RATE_LIMIT_AUTH_PER_MIN'
  | 'RATE_LIMIT_SUBMISSIONS_PER_MIN'
  | 'RATE_LIMIT_MATCHES_PER_MIN'
  | 'RATE_LIMIT_DEFAULT_PER_MIN'
  | 'RATE_LIMIT_LAPXCEL_USER_PER_HOUR'
  | 'RATE_LIMIT_LAPXCEL_ANONYMOUS_PER_HOUR'
  | 'RATE_LIMIT_RUNNER_PER_HOUR'
>;

interface BudgetPolicy {
  windowMs: number;
  limit: (req: Request) => number;
  key: (req: Request) => string;
  /** The `category` named in a 429 body. */
  category: string;
}

/** What express-rate-limit records on the request for one budget. */
interface BudgetState {
  limit: number;
  remaining: number;
  resetTime: Date | undefined;
}

export function limitsPerMinute(config: RateLimitConfig): Record<'auth' | 'submissions' | 'matches' | 'default', number> {
  return {
    auth: config.RATE_LIMIT_AUTH_PER_MIN,
    submissions: config.RATE_LIMIT_SUBMISSIONS_PER_MIN,
    matches: config.RATE_LIMIT_MATCHES_PER_MIN,
    default: config.RATE_LIMIT_DEFAULT_PER_MIN,
  };
}

function policies(config: RateLimitConfig): Record<Budget, BudgetPolicy> {
  const perMinute = limitsPerMinute(config);
  const arena = (category: keyof typeof perMinute, key: (req: Request) => string): BudgetPolicy => ({
    windowMs: RATE_LIMIT_WINDOW_MS,
    limit: () => perMinute[category],
    key,
    category,
  });
  return {
    'arena-auth': arena('auth', clientAddressKey),
    'arena-submissions': arena('submissions', userOrClientAddressKey),
    'arena-matches': arena('matches', userOrClientAddressKey),
    'arena-default': arena('default', userOrClientAddressKey),
    lapxcel: {
      windowMs: LAPXCEL_RATE_LIMIT_WINDOW_MS,
      limit: (req) =>
        authOutcomeOf(req).kind === 'authenticated' ? config.RATE_LIMIT_LAPXCEL_USER_PER_HOUR : config.RATE_LIMIT_LAPXCEL_ANONYMOUS_PER_HOUR,
      key: userOrClientAddressKey,
      category: 'lapxcel',
    },
    // Trainer runners report every few seconds for hours: a budget of their own, per runner token.
    runner: {
      windowMs: LAPXCEL_RATE_LIMIT_WINDOW_MS,
      limit: () => config.RATE_LIMIT_RUNNER_PER_HOUR,
      key: runnerTokenKey,
      category: 'runner',
    },
    'lapxcel-auth': {
      windowMs: LAPXCEL_RATE_LIMIT_WINDOW_MS,
      limit: () => config.RATE_LIMIT_LAPXCEL_ANONYMOUS_PER_HOUR,
      key: clientAddressKey,
      category: 'auth',
    },
  };
}

/** Undefined when RATE_LIMIT_ENABLED=false: routes are then mounted without a limiter. */
export function createRateLimiters(config: RateLimitConfig, logger: Logger): RateLimiters | undefined {
  if (!config.RATE_LIMIT_ENABLED) return undefined;
  const budgetPolicies = policies(config);
  const limiters = new Map<Budget, RequestHandler>();
  for (const [budget, policy] of Object.entries(budgetPolicies) as [Budget, BudgetPolicy][]) {
    limiters.set(
      budget,
      rateLimit({
        windowMs: policy.windowMs,
        limit: (req: Request) => policy.limit(req),
        // Both contracts document X-RateLimit-Limit/-Remaining/-Reset (epoch seconds): the legacy set.
        // The limiter that refuses a request sets them last, so a 429 describes the budget that refused.
        legacyHeaders: true,
        standardHeaders: false,
        requestPropertyName: stateProperty(budget),
        keyGenerator: policy.key,
        handler: (req, _res, next) => {
          const limit = policy.limit(req);
          const window = policy.windowMs === LAPXCEL_RATE_LIMIT_WINDOW_MS ? 'hour' : 'minute';
          next(
            new RateLimitedError(`Rate limit exceeded: ${limit} requests per ${window}`, {
              category: policy.category,
              limit,
              window_sec: policy.windowMs / 1000,
            }),
          );
        },
        logger: {
          error: (error: unknown, message?: string) => logger.error({ err: error }, message ?? 'rate limiter error'),
          warn: (error: unknown, message?: string) => logger.warn({ err: error }, message ?? 'rate limiter warning'),
        },
      }),
    );
  }
  return {
    forRoute(categories) {
      const list = categories === undefined ? ['default' as const] : typeof categories === 'string' ? [categories] : categories;
      const budgets = [...new Set(list.flatMap((category) => BUDGETS_OF[category]))];
      const chain = budgets.map((budget) => limiters.get(budget)).filter((limiter): limiter is RequestHandler => limiter !== undefined);
      if (budgets.length > 1) chain.push(describeBindingBudget(budgets));
      return chain;
    },
  };
}

const stateProperty = (budget: Budget) => `rateLimit:${budget}`;

/** A runner's budget follows its token (hashed: the secret never becomes a map key), else its address. */
function runnerTokenKey(req: Request): string {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.length > 0) return `runner:${createHash('sha256').update(header).digest('hex')}`;
  return clientAddressKey(req);
}

/** Sets the headers from the budget with the fewest requests left (on a tie, the one that resets last). */
function describeBindingBudget(budgets: readonly Budget[]): RequestHandler {
  return (req, res, next) => {
    let binding: BudgetState | undefined;
    for (const budget of budgets) {
      const state = (req as unknown as Record<string, BudgetState | undefined>)[stateProperty(budget)];
      if (state === undefined) continue;
      const later = (state.resetTime?.getTime() ?? 0) > (binding?.resetTime?.getTime() ?? 0);
      if (binding === undefined || state.remaining < binding.remaining || (state.remaining === binding.remaining && later)) binding = state;
    }
    if (binding !== undefined && !res.headersSent) {
      res.setHeader('X-RateLimit-Limit', String(binding.limit));
      res.setHeader('X-RateLimit-Remaining', String(binding.remaining));
      if (binding.resetTime !== undefined) res.setHeader('X-RateLimit-Reset', String(Math.ceil(binding.resetTime.getTime() / 1000)));
    }
    next();
  };
}

/** Login/register are limited per client address: there is no user yet, and credential stuffing is per source. */
function clientAddressKey(req: Request): string {
  // ipKeyGenerator groups an IPv6 /56, otherwise one client could rotate addresses within its block.
  return `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
}

function userOrClientAddressKey(req: Request): string {
  const outcome = authOutcomeOf(req);
  return outcome.kind === 'authenticated' ? `user:${outcome.user.id}` : clientAddressKey(req);
}
