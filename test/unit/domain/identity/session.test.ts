import { sessionDecider, type SessionEvent } from '../../../../src/domain/identity/session';
import { ForbiddenError, UnauthorizedError } from '../../../../src/domain/shared/errors';
import { deciderSpec } from '../../../support/decider-spec';

const spec = deciderSpec(sessionDecider);
const now = '2026-01-01T00:00:00.000Z';
const started: SessionEvent = { type: 'SessionStarted', data: { sessionId: 's1', userId: 'u1', refreshTokenId: 't1', startedAt: now } };
const rotated: SessionEvent = {
  type: 'SessionRefreshed',
  data: { sessionId: 's1', userId: 'u1', previousRefreshTokenId: 't1', refreshTokenId: 't2', refreshedAt: now },
};
const refresh = (presented: string, userId = 'u1') =>
  ({ type: 'RefreshSession', sessionId: 's1', userId, presentedRefreshTokenId: presented, newRefreshTokenId: 'next', now }) as const;

describe('session (refresh token family)', () => {
  it('the current refresh token rotates to a new one', () => {
    spec.given([started]).when(refresh('t1')).then([
      { type: 'SessionRefreshed', data: { sessionId: 's1', userId: 'u1', previousRefreshTokenId: 't1', refreshTokenId: 'next', refreshedAt: now } },
    ]);
  });
  it('presenting a rotated token revokes the whole family', () => {
    spec.given([started, rotated]).when(refresh('t1')).then([
      { type: 'SessionRevoked', data: { sessionId: 's1', userId: 'u1', reason: 'refresh_token_reuse', presentedRefreshTokenId: 't1', revokedAt: now } },
    ]);
  });
  it('after revocation even the current token is refused', () => {
    const revoked: SessionEvent = {
      type: 'SessionRevoked',
      data: { sessionId: 's1', userId: 'u1', reason: 'refresh_token_reuse', presentedRefreshTokenId: 't1', revokedAt: now },
    };
    spec.given([started, rotated, revoked]).when(refresh('t2')).thenThrows(UnauthorizedError, 'Refresh token revoked');
  });
  it('an unknown session or another user\'s is an invalid refresh token', () => {
    spec.given([]).when(refresh('t1')).thenThrows(UnauthorizedError, 'Invalid refresh token');
    spec.given([started]).when(refresh('t1', 'u2')).thenThrows(UnauthorizedError, 'Invalid refresh token');
  });
  it('logout revokes once; again changes nothing; another user may not', () => {
    const logout = { type: 'RevokeSession', sessionId: 's1', userId: 'u1', reason: 'logout', now } as const;
    spec.given([started]).when(logout).then([
      { type: 'SessionRevoked', data: { sessionId: 's1', userId: 'u1', reason: 'logout', presentedRefreshTokenId: null, revokedAt: now } },
    ]);
    spec.given([started, { type: 'SessionRevoked', data: { sessionId: 's1', userId: 'u1', reason: 'logout', presentedRefreshTokenId: null, revokedAt: now } }]).when(logout).then([]);
    spec.given([started]).when({ ...logout, userId: 'u2' }).thenThrows(ForbiddenError);
  });
});
