import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError, ForbiddenError, UnauthorizedError } from '../shared/errors';

/**
 * A sign-in session: the family of refresh tokens one login (or registration) started. Each refresh
 * rotates the family to a new token; presenting any token but the current one is reuse (a stolen
 * token, or a replayed one) and revokes the whole family. Logout revokes it too. Access tokens name
 * their session, so a revoked session's access tokens stop working as well.
 */
export const signInSessionStreamId = (sessionId: string): string => `signin-${sessionId}`;

export const SessionStarted = defineEvent('SessionStarted', {
  data: z.object({ sessionId: z.string(), userId: z.string(), refreshTokenId: z.string(), startedAt: z.string() }),
});
export type SessionStarted = EventOf<typeof SessionStarted>;
export const SessionRefreshed = defineEvent('SessionRefreshed', {
  data: z.object({ sessionId: z.string(), userId: z.string(), previousRefreshTokenId: z.string(), refreshTokenId: z.string(), refreshedAt: z.string() }),
});
export type SessionRefreshed = EventOf<typeof SessionRefreshed>;
export type SessionRevocationReason = 'logout' | 'refresh_token_reuse';
export const SessionRevoked = defineEvent('SessionRevoked', {
  data: z.object({
    sessionId: z.string(),
    userId: z.string(),
    reason: z.enum(['logout', 'refresh_token_reuse']),
    presentedRefreshTokenId: z.string().nullable(),
    revokedAt: z.string(),
  }),
});
export type SessionRevoked = EventOf<typeof SessionRevoked>;
export type SessionEvent = SessionStarted | SessionRefreshed | SessionRevoked;

export type Session =
  | { status: 'none' }
  | { status: 'active' | 'revoked'; sessionId: string; userId: string; currentRefreshTokenId: string };

export type SessionCommand =
  | { type: 'StartSession'; sessionId: string; userId: string; refreshTokenId: string; now: string }
  /** `newRefreshTokenId` is the id the new refresh token will carry when the rotation is accepted. */
  | { type: 'RefreshSession'; sessionId: string; userId: string; presentedRefreshTokenId: string; newRefreshTokenId: string; now: string }
  | { type: 'RevokeSession'; sessionId: string; userId: string; reason: 'logout'; now: string };

export const initialSession = (): Session => ({ status: 'none' });

export function evolveSession(state: Session, event: SessionEvent): Session {
  switch (event.type) {
    case 'SessionStarted':
      return { status: 'active', sessionId: event.data.sessionId, userId: event.data.userId, currentRefreshTokenId: event.data.refreshTokenId };
    case 'SessionRefreshed':
      return state.status === 'none' ? state : { ...state, currentRefreshTokenId: event.data.refreshTokenId };
    case 'SessionRevoked':
      return state.status === 'none' ? state : { ...state, status: 'revoked' };
  }
}

const INVALID_REFRESH = 'Invalid refresh token';

export function decideSession(command: SessionCommand, state: Session): SessionEvent[] {
  switch (command.type) {
    case 'StartSession': {
      if (state.status !== 'none') throw new ConflictError('session already exists');
      const { sessionId, userId, refreshTokenId, now } = command;
      return [{ type: 'SessionStarted', data: { sessionId, userId, refreshTokenId, startedAt: now } }];
    }
    case 'RefreshSession': {
      // An unknown session or another user's: the token proves nothing here.
      if (state.status === 'none' || state.userId !== command.userId) throw new UnauthorizedError(INVALID_REFRESH);
      if (state.status === 'revoked') throw new UnauthorizedError('Refresh token revoked');
      if (command.presentedRefreshTokenId !== state.currentRefreshTokenId) {
        // Reuse of a rotated token: whoever holds the family, it is no longer safe to trust.
        return [
          {
            type: 'SessionRevoked',
            data: {
              sessionId: state.sessionId,
              userId: state.userId,
              reason: 'refresh_token_reuse',
              presentedRefreshTokenId: command.presentedRefreshTokenId,
              revokedAt: command.now,
            },
          },
        ];
      }
      return [
        {
          type: 'SessionRefreshed',
          data: {
            sessionId: state.sessionId,
            userId: state.userId,
            previousRefreshTokenId: state.currentRefreshTokenId,
            refreshTokenId: command.newRefreshTokenId,
            refreshedAt: command.now,
          },
        },
      ];
    }
    case 'RevokeSession':
      if (state.status === 'none') return [];
      if (state.userId !== command.userId) throw new ForbiddenError('Not your session');
      if (state.status === 'revoked') return [];
      return [
        {
          type: 'SessionRevoked',
          data: { sessionId: state.sessionId, userId: state.userId, reason: command.reason, presentedRefreshTokenId: null, revokedAt: command.now },
        },
      ];
  }
}

export const sessionDecider: Decider<SessionCommand, Session, SessionEvent> = {
  initialState: initialSession,
  evolve: evolveSession,
  decide: decideSession,
};
