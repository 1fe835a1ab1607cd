import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UnauthorizedError } from '../../domain/shared/errors';
import type { AuthenticatedUser } from './route';

/**
 * Per-request facts that the middlewares hand to each other. WeakMaps instead of `res.locals`
 * (typed `any`) or ad-hoc request properties, so the values stay typed and private to this module.
 */

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Accepted from clients so a request can be traced across services; anything else is replaced. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const requestIds = new WeakMap<IncomingMessage, string>();

/** Takes the client's X-Request-Id when it is sane, else makes one; echoes it on the response. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const existing = requestIds.get(req);
  if (existing !== undefined) return existing;
  const offered = req.headers['x-request-id'];
  const requestId = typeof offered === 'string' && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
  requestIds.set(req, requestId);
  res.setHeader(REQUEST_ID_HEADER, requestId);
  return requestId;
}

export function requestIdOf(req: IncomingMessage): string {
  return requestIds.get(req) ?? 'unknown';
}

/** What authentication found; a failure is only enforced after rate limiting has counted the request. */
export type AuthOutcome =
  | { kind: 'anonymous' }
  | { kind: 'authenticated'; user: AuthenticatedUser }
  | { kind: 'rejected'; error: UnauthorizedError };

const authOutcomes = new WeakMap<IncomingMessage, AuthOutcome>();

export function setAuthOutcome(req: IncomingMessage, outcome: AuthOutcome): void {
  authOutcomes.set(req, outcome);
}

export function authOutcomeOf(req: IncomingMessage): AuthOutcome {
  return authOutcomes.get(req) ?? { kind: 'anonymous' };
}
