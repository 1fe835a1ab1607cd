import type { NextFunction, Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import jwt from 'jsonwebtoken';
import { ExtractJwt } from 'passport-jwt';
import { z } from 'zod';
import { UnauthorizedError } from '../../../domain/shared/errors';
import { setAuthOutcome, type AuthOutcome } from '../request-context';
import type { AuthenticatedUser, AuthMode } from '../route';
import type { SessionCheck } from './session-guard';
import type { TokenService } from './token-service';
import { VerifiedTokens } from './verified-tokens';

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

export function createRequestAuthenticator(tokens: TokenService, sessions: SessionCheck, verified: VerifiedTokens = new VerifiedTokens()): RequestAuthenticator {
  // A private Authenticator instead of the passport singleton: two apps in one process
  // (tests, or several servers) must not share strategies.
  const authenticator = new passport.Authenticator();
  authenticator.use(STRATEGY_NAME, tokens.createPassportStrategy());
  // The same extractor as the strategy's (tokens.createPassportStrategy).
  const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

  /** A well-signed token still needs a user that exists and a session nobody revoked. */
  const checkSession = (user: AuthenticatedUser): Promise<AuthOutcome> =>
    sessions.assertActive(user).then(
      (): AuthOutcome => ({ kind: 'authenticated', user }),
      (rejection: unknown) => {
        if (rejection instanceof UnauthorizedError) return { kind: 'rejected', error: rejection };
        throw rejection;
      },
    );

  const authenticate = (req: Request, res: Response, authorization: string): Promise<AuthOutcome> => {
    // A token verified before: its signature and claims give the same answer again (VerifiedTokens).
    const known = verified.userOf(authorization);
    return known !== undefined ? checkSession(known) : authenticateWithPassport(req, res, authorization);
  };

  const authenticateWithPassport = (req: Request, res: Response, authorization: string): Promise<AuthOutcome> =>
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
        const token = bearerToken(req);
        if (token !== null) verified.remember(authorization, token, parsed.data);
        checkSession(parsed.data).then(resolve, reject);
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
          const outcome = await authenticate(req, res, req.headers.authorization);
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
