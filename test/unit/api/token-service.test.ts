import jwt from 'jsonwebtoken';
import { UnauthorizedError } from '../../../src/domain/shared/errors';
import { authenticateWebSocketToken, webSocketTokenOf } from '../../../src/api/shared/auth/websocket-authentication';
import { TokenService } from '../../../src/api/shared/auth/token-service';
import type { IncomingMessage } from 'node:http';
import { inspect } from 'node:util';

const SECRET = 'unit-test-secret-that-is-at-least-32-chars';
const user = { id: 'user-1', username: 'racing_pro' };
const tokens = new TokenService({ secret: SECRET, accessTokenTtlSec: 3600, refreshTokenTtlSec: 86400 });

function expectUnauthorized(action: () => unknown, message: string): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(UnauthorizedError);
  expect(thrown instanceof Error && thrown.message).toBe(message);
}

describe('TokenService', () => {
  it('issues the contract token response with HS256 access and refresh tokens', () => {
    const issued = tokens.issue(user);
    expect(issued).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 3600, refresh_token: expect.any(String) });
    const header = jwt.decode(issued.access_token, { complete: true })?.header;
    expect(header?.alg).toBe('HS256');
    const access = jwt.decode(issued.access_token);
    expect(access).toMatchObject({ sub: 'user-1', username: 'racing_pro', typ: 'access' });
    const refresh = jwt.decode(issued.refresh_token);
    expect(refresh).toMatchObject({ sub: 'user-1', typ: 'refresh', jti: expect.any(String) });
    if (typeof access === 'object' && access !== null && typeof refresh === 'object' && refresh !== null) {
      expect((access.exp ?? 0) - (access.iat ?? 0)).toBe(3600);
      expect((refresh.exp ?? 0) - (refresh.iat ?? 0)).toBe(86400);
    }
  });

  it('issues the RL-Arena token as an access token valid 24 h by default, or as configured', () => {
    const lifetime = (token: string) => {
      const claims = jwt.decode(token);
      if (typeof claims !== 'object' || claims === null) throw new Error('not a JWT');
      return (claims.exp ?? 0) - (claims.iat ?? 0);
    };
    const arenaToken = tokens.issueArenaToken(user);
    expect(lifetime(arenaToken)).toBe(24 * 3600);
    expect(tokens.verifyAccess(arenaToken)).toEqual(user);
    expectUnauthorized(() => tokens.verifyRefresh(arenaToken), 'Invalid refresh token');
    const configured = new TokenService({ secret: SECRET, accessTokenTtlSec: 3600, refreshTokenTtlSec: 86400, arenaTokenTtlSec: 7200 });
    expect(lifetime(configured.issueArenaToken(user))).toBe(7200);
    expect(lifetime(configured.issue(user).access_token)).toBe(3600);
    // Still valid 23 h after issue, when the 1 h access token has long expired.
    const dayAgo = new TokenService({ secret: SECRET, accessTokenTtlSec: 3600, refreshTokenTtlSec: 86400, now: () => Date.now() - 23 * 3_600_000 });
    expect(tokens.verifyAccess(dayAgo.issueArenaToken(user))).toEqual(user);
    expectUnauthorized(() => tokens.verifyAccess(dayAgo.issue(user).access_token), 'Token expired');
  });

  it('verifies its own tokens by type', () => {
    const issued = tokens.issue(user);
    expect(tokens.verifyAccess(issued.access_token)).toEqual(user);
    expect(tokens.verifyRefresh(issued.refresh_token)).toEqual({ userId: 'user-1', username: 'racing_pro', jti: expect.any(String) });
    expect(tokens.verifyRefresh(tokens.issue(user).refresh_token).jti).not.toBe(tokens.verifyRefresh(issued.refresh_token).jti);
  });

  it('rejects a refresh token used as access and vice versa', () => {
    const issued = tokens.issue(user);
    expectUnauthorized(() => tokens.verifyAccess(issued.refresh_token), 'Invalid access token');
    expectUnauthorized(() => tokens.verifyRefresh(issued.access_token), 'Invalid refresh token');
  });

  it('rejects expired tokens', () => {
    const past = new TokenService({ secret: SECRET, accessTokenTtlSec: 60, refreshTokenTtlSec: 60, now: () => Date.now() - 3_600_000 });
    expectUnauthorized(() => tokens.verifyAccess(past.issue(user).access_token), 'Token expired');
    expectUnauthorized(() => tokens.verifyRefresh(past.issue(user).refresh_token), 'Token expired');
  });

  it('pins HS256: other algorithms, unsigned tokens and other secrets are rejected', () => {
    const claims = { sub: 'user-1', username: 'racing_pro', typ: 'access' };
    expectUnauthorized(() => tokens.verifyAccess(jwt.sign(claims, SECRET, { algorithm: 'HS512' })), 'Invalid token');
    expectUnauthorized(() => tokens.verifyAccess(jwt.sign(claims, null, { algorithm: 'none' })), 'Invalid token');
    expectUnauthorized(() => tokens.verifyAccess(jwt.sign(claims, 'another-secret-that-is-at-least-32-chars!')), 'Invalid token');
    expectUnauthorized(() => tokens.verifyAccess('garbage'), 'Invalid token');
  });

  it('refuses a short secret', () => {
    expect(() => new TokenService({ secret: 'short', accessTokenTtlSec: 1, refreshTokenTtlSec: 1 })).toThrow(/at least 32/);
  });

  it('does not expose the secret when inspected or serialized', () => {
    expect(JSON.stringify(tokens)).not.toContain(SECRET);
    expect(inspect(tokens)).not.toContain(SECRET);
  });
});

describe('WebSocket authentication', () => {
  it('accepts a valid access token and rejects missing or refresh tokens', () => {
    const issued = tokens.issue(user);
    expect(authenticateWebSocketToken(tokens, issued.access_token)).toEqual(user);
    expect(() => authenticateWebSocketToken(tokens, undefined)).toThrow(UnauthorizedError);
    expect(() => authenticateWebSocketToken(tokens, '')).toThrow(UnauthorizedError);
    expect(() => authenticateWebSocketToken(tokens, issued.refresh_token)).toThrow(UnauthorizedError);
  });

  it('reads the token from ?token= or a Bearer header', () => {
    const upgrade = (url: string, authorization?: string): IncomingMessage =>
      ({ url, headers: authorization ? { authorization } : {} }) as IncomingMessage;
    expect(webSocketTokenOf(upgrade('/ws/telemetry?token=abc'))).toBe('abc');
    expect(webSocketTokenOf(upgrade('/api/v1/ws', 'Bearer xyz'))).toBe('xyz');
    expect(webSocketTokenOf(upgrade('/api/v1/ws'))).toBeUndefined();
  });
});
