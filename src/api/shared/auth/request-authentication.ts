import type { NextFunction, Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { UnauthorizedError } from '../../../domain/shared/errors';
import { setAuthOutcome, type AuthOutcome } from '../request-context';
import type { AuthMode } from '../route';
import type { SessionCheck } from './session-guard';
import type { TokenService } from './token-service';

/**
 * Authentication of HTTP requests through passport-jwt. The middleware only records the outcome;
 * `enforceAuthentication` rejects later, after rate limiting has counted the request, so guessing
 * tokens still spends the caller's budget.
 */

const STRATEGY_NAME = 'jwt';

/** Passport hands the verify callback's user back untyped; parse it rather than cast it. */
const AuthenticatedUserSchema = z.object({ id: z.string().min(1), username: z.string().min(1), sessionId: z.string().min(1).optional() });

export interface RequestAuthenticator {
  /** Middleware recording the auth outcome of a route with the given mode. */
  middleware(mode: AuthMode): RequestHandler;
}

export function createRequestAuthenticator(tokens: TokenService, sessions: SessionCheck): RequestAuthenticator {
  // A private Authenticator instead of the passport singleton: two apps in one process
  // (tests, or several servers) must not share strategies.
  const authenticator = new passport.Authenticator();
  authenticator.use(STRATEGY_NAME, tokens.createPassportStrategy());

  const authenticate = (req: Request, res: Response): Promise<AuthOutcome> =>
    new Promise((resolve, reject) => {
      const onOutcome = (error: unknown, user: unknown, info: unknown): void => {
        if (error) {
          reject(error);
          return;
        }
        const parsed = AuthenticatedUserSchema.safeParse(user);
        if (!parsed.success) {
          resolve({ kind: 'rejected', error: new UnauthorizedError(rejectionMessage(info)) });
          return;
        }
        // A well-signed token still needs a user that exists and a session nobody revoked.
        sessions.assertActive(parsed.data).then(
          () => resolve({ kind: 'authenticated', user: parsed.data }),
          (rejection: unknown) => (rejection instanceof UnauthorizedError ? resolve({ kind: 'rejected', error: rejection }) : reject(rejection)),
        );
      };
      const passportMiddleware: RequestHandler = authenticator.authenticate(STRATEGY_NAME, { session: false }, onOutcome);
      void passportMiddleware(req, res, (error?: unknown) => reject(error));
    });

  return {
    middleware(mode: AuthMode): RequestHandler {
      return async (req: Request, res: Response, next: NextFunction) => {
        if (mode === 'none') {
          setAuthOutcome(req, { kind: 'anonymous' });
        } else if (req.headers.authorization === undefined) {
          setAuthOutcome(
            req,
            mode === 'required' ? { kind: 'rejected', error: new UnauthorizedError('Authentication required') } : { kind: 'anonymous' },
          );
        } else {
          const outcome = await authenticate(req, res);
          // On optional routes a bad token is ignored: the request is served as anonymous.
          setAuthOutcome(req, outcome.kind === 'rejected' && mode === 'optional' ? { kind: 'anonymous' } : outcome);
        }
        next();
      };
    },
  };
}

function rejectionMessage(info: unknown): string {
  if (info instanceof jwt.TokenExpiredError) return 'Token expired';
  if (info instanceof Error && info.message === 'No auth token') return 'Authentication required: send Authorization: Bearer <token>';
  return 'Invalid access token';
}
