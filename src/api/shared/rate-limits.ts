import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RateLimitedError } from '../../domain/shared/errors';
import type { Config } from '../../infrastructure/config/config';
import type { Logger } from '../../infrastructure/logging/logger';
import { authOutcomeOf } from './request-context';
import type { RateLimitCategory } from './route';

/**
 * One limiter (and one counter store) per category, shared by every route of that category, so
 * e.g. all submission routes draw from the same per-minute budget. Windows are fixed, 1 minute.
 */
export const RATE_LIMIT_WINDOW_MS = 60_000;

export type RateLimiters = Record<RateLimitCategory, RequestHandler>;

type RateLimitConfig = Pick<
  Config,
  'RATE_LIMIT_ENABLED' | 'RATE_LIMIT_AUTH_PER_MIN' | 'RATE_LIMIT_SUBMISSIONS_PER_MIN' | 'RATE_LIMIT_MATCHES_PER_MIN' | 'RATE_LIMIT_DEFAULT_PER_MIN'
>;

export function limitsPerMinute(config: RateLimitConfig): Record<RateLimitCategory, number> {
  return {
    auth: config.RATE_LIMIT_AUTH_PER_MIN,
    submissions: config.RATE_LIMIT_SUBMISSIONS_PER_MIN,
    matches: config.RATE_LIMIT_MATCHES_PER_MIN,
    default: config.RATE_LIMIT_DEFAULT_PER_MIN,
  };
}

/** Undefined when RATE_LIMIT_ENABLED=false: routes are then mounted without a limiter. */
export function createRateLimiters(config: RateLimitConfig, logger: Logger): RateLimiters | undefined {
  if (!config.RATE_LIMIT_ENABLED) return undefined;
  const limits = limitsPerMinute(config);
  const limiter = (category: RateLimitCategory): RequestHandler =>
    rateLimit({
      windowMs: RATE_LIMIT_WINDOW_MS,
      limit: limits[category],
      // Both contracts document X-RateLimit-Limit/-Remaining/-Reset (epoch seconds): the legacy set.
      legacyHeaders: true,
      standardHeaders: false,
      keyGenerator: category === 'auth' ? clientAddressKey : userOrClientAddressKey,
      handler: (_req, _res, next) => {
        next(
          new RateLimitedError(`Rate limit exceeded: ${limits[category]} requests per minute`, {
            category,
            limit: limits[category],
            window_sec: RATE_LIMIT_WINDOW_MS / 1000,
          }),
        );
      },
      logger: {
        error: (error: unknown, message?: string) => logger.error({ err: error }, message ?? 'rate limiter error'),
        warn: (error: unknown, message?: string) => logger.warn({ err: error }, message ?? 'rate limiter warning'),
      },
    });
  return {
    auth: limiter('auth'),
    submissions: limiter('submissions'),
    matches: limiter('matches'),
    default: limiter('default'),
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
