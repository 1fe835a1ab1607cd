import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { z } from 'zod';
import { UnauthorizedError } from '../../../domain/shared/errors';
import type { AuthenticatedUser } from '../route';

/**
 * Issues and verifies the JWTs of both contracts. HS256 is pinned on sign AND verify: accepting
 * whatever `alg` a token names is how "alg: none" and key-confusion forgeries get in.
 */
export const JWT_ALGORITHM = 'HS256';

/** Below this an HMAC secret can be brute-forced offline from any token. */
const MIN_SECRET_LENGTH = 32;

/** `exp` is required: jsonwebtoken checks it only when present, so a token without one would never expire. */
const AccessTokenClaimsSchema = z.object({
  sub: z.string().min(1),
  username: z.string().min(1),
  typ: z.literal('access'),
  exp: z.number(),
  /** The session (refresh token family) the token belongs to; absent on tokens issued without one. */
  sid: z.string().min(1).optional(),
});

const RefreshTokenClaimsSchema = z.object({
  sub: z.string().min(1),
  username: z.string().min(1),
  typ: z.literal('refresh'),
  jti: z.string().min(1),
  exp: z.number(),
  sid: z.string().min(1).optional(),
});

const toAuthenticatedUser = (claims: z.infer<typeof AccessTokenClaimsSchema>): AuthenticatedUser => ({
  id: claims.sub,
  username: claims.username,
  ...(claims.sid === undefined ? {} : { sessionId: claims.sid }),
});

export interface TokenServiceOptions {
  /** Resolved by the composition root; kept in a private field so it never shows up when logged. */
  secret: string;
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  /** Lifetime of the RL-Arena `token` (an access token; that contract has no refresh). Default 24 h. */
  arenaTokenTtlSec?: number;
  /** Milliseconds since the epoch; injectable so tests can mint already-expired tokens. */
  now?: () => number;
}

/** RL-Arena's document promises a token that lasts 24 hours and offers no refresh. */
export const DEFAULT_ARENA_TOKEN_TTL_SEC = 24 * 3600;

/** The LapXcel login/register response (the RL-Arena `token` is a separate, longer-lived access token). */
export interface IssuedTokens {
  access_token: string;
  token_type: 'bearer';
  /** Seconds until the access token expires. */
  expires_in: number;
  refresh_token: string;
}

export interface RefreshTokenClaims {
  userId: string;
  username: string;
  /** Unique per refresh token, so a store can revoke or rotate it. */
  jti: string;
  /** The session (refresh token family); see src/domain/identity/session.ts. */
  sessionId?: string;
}

/** Ties issued tokens to a session: both carry `sid`, the refresh token's `jti` is `refreshTokenId`. */
export interface TokenSession {
  sessionId: string;
  refreshTokenId: string;
}

export class TokenService {
  /**
   * The HMAC key, built once. Given a string, jsonwebtoken first tries to parse it as a PEM public
   * key on every sign and verify, then builds a secret key from it: that was most of a token check.
   */
  readonly #key: KeyObject;
  readonly #accessTokenTtlSec: number;
  readonly #refreshTokenTtlSec: number;
  readonly #arenaTokenTtlSec: number;
  readonly #now: () => number;

  constructor(options: TokenServiceOptions) {
    if (options.secret.length < MIN_SECRET_LENGTH) {
      throw new Error(`JWT secret must be at least ${MIN_SECRET_LENGTH} characters`);
    }
    this.#key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    this.#accessTokenTtlSec = options.accessTokenTtlSec;
    this.#refreshTokenTtlSec = options.refreshTokenTtlSec;
    this.#arenaTokenTtlSec = options.arenaTokenTtlSec ?? DEFAULT_ARENA_TOKEN_TTL_SEC;
    this.#now = options.now ?? Date.now;
  }

  issue(user: AuthenticatedUser, session?: TokenSession): IssuedTokens {
    const issuedAtSec = Math.floor(this.#now() / 1000);
    const sid = session === undefined ? {} : { sid: session.sessionId };
    const accessToken = this.#signAccess(user, this.#accessTokenTtlSec, session);
    const refreshToken = jwt.sign(
      { sub: user.id, username: user.username, typ: 'refresh', jti: session?.refreshTokenId ?? randomUUID(), iat: issuedAtSec, ...sid },
      this.#key,
      { algorithm: JWT_ALGORITHM, expiresIn: this.#refreshTokenTtlSec },
    );
    return { access_token: accessToken, token_type: 'bearer', expires_in: this.#accessTokenTtlSec, refresh_token: refreshToken };
  }

  /**
   * The RL-Arena `token`: an ordinary access token (same claims, accepted wherever `access_token`
   * is), only with that contract's lifetime, because its clients have no way to refresh.
   */
  issueArenaToken(user: AuthenticatedUser, session?: TokenSession): string {
    return this.#signAccess(user, this.#arenaTokenTtlSec, session);
  }

  /** Throws UnauthorizedError for anything but a valid, unexpired access token (refresh tokens included). */
  verifyAccess(token: string): AuthenticatedUser {
    const claims = AccessTokenClaimsSchema.safeParse(this.#verifySignature(token));
    if (!claims.success) throw new UnauthorizedError('Invalid access token');
    return toAuthenticatedUser(claims.data);
  }

  verifyRefresh(token: string): RefreshTokenClaims {
    const claims = RefreshTokenClaimsSchema.safeParse(this.#verifySignature(token));
    if (!claims.success) throw new UnauthorizedError('Invalid refresh token');
    return {
      userId: claims.data.sub,
      username: claims.data.username,
      jti: claims.data.jti,
      ...(claims.data.sid === undefined ? {} : { sessionId: claims.data.sid }),
    };
  }

  /**
   * The passport-jwt strategy for `Authorization: Bearer <access token>`. Built here so the secret
   * never leaves this object. passport-jwt checks signature and expiry against the real clock.
   */
  createPassportStrategy(): JwtStrategy {
    return new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        // passport-jwt hands the key to jsonwebtoken.verify untouched; its types only name string |
        // Buffer, but jsonwebtoken takes a KeyObject (and skips re-parsing the secret on every request).
        secretOrKey: this.#key as unknown as Buffer,
        algorithms: [JWT_ALGORITHM],
      },
      (payload: unknown, done: (error: null, user: AuthenticatedUser | false, info?: { message: string }) => void) => {
        const claims = AccessTokenClaimsSchema.safeParse(payload);
        if (!claims.success) {
          // Typically a refresh token presented as an access token.
          done(null, false, { message: 'Invalid access token' });
          return;
        }
        done(null, toAuthenticatedUser(claims.data));
      },
    );
  }

  #signAccess(user: AuthenticatedUser, ttlSec: number, session: TokenSession | undefined): string {
    const issuedAtSec = Math.floor(this.#now() / 1000);
    const sid = session === undefined ? {} : { sid: session.sessionId };
    return jwt.sign({ sub: user.id, username: user.username, typ: 'access', iat: issuedAtSec, ...sid }, this.#key, {
      algorithm: JWT_ALGORITHM,
      expiresIn: ttlSec,
    });
  }

  #verifySignature(token: string): unknown {
    try {
      return jwt.verify(token, this.#key, {
        algorithms: [JWT_ALGORITHM],
        clockTimestamp: Math.floor(this.#now() / 1000),
      });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new UnauthorizedError('Token expired');
      throw new UnauthorizedError('Invalid token');
    }
  }
}
