import { sessionDecider, signInSessionStreamId } from '../../domain/identity/session';
import type { CommandContext } from '../command-context';
import { handleCommand } from '../handle-command';

/** What the token service signs into a session's tokens: `sid` and the refresh token's `jti`. */
export interface SessionTokens {
  sessionId: string;
  refreshTokenId: string;
}

/** A login or registration starts a session: its first refresh token is the family's current one. */
export async function startSession(ctx: CommandContext, userId: string): Promise<SessionTokens> {
  const sessionId = ctx.newId();
  const refreshTokenId = ctx.newId();
  await handleCommand(
    ctx.store,
    signInSessionStreamId(sessionId),
    sessionDecider,
    { type: 'StartSession', sessionId, userId, refreshTokenId, now: ctx.now().toISOString() },
    { metadata: { ...ctx.metadata, userId } },
  );
  return { sessionId, refreshTokenId };
}

/**
 * Rotates the session to a new refresh token. A rotated (reused) token revokes the session: that is
 * recorded, and the answer is `{ revokedForReuse: true }` (the caller answers 401).
 */
export async function refreshSession(
  ctx: CommandContext,
  presented: { userId: string; sessionId: string; refreshTokenId: string },
): Promise<SessionTokens | { revokedForReuse: true }> {
  const newRefreshTokenId = ctx.newId();
  const outcome = await handleCommand(
    ctx.store,
    signInSessionStreamId(presented.sessionId),
    sessionDecider,
    {
      type: 'RefreshSession',
      sessionId: presented.sessionId,
      userId: presented.userId,
      presentedRefreshTokenId: presented.refreshTokenId,
      newRefreshTokenId,
      now: ctx.now().toISOString(),
    },
    { metadata: { ...ctx.metadata, userId: presented.userId } },
  );
  if (outcome.events.some((event) => event.type === 'SessionRevoked')) return { revokedForReuse: true };
  return { sessionId: presented.sessionId, refreshTokenId: newRefreshTokenId };
}

export async function revokeSession(ctx: CommandContext, userId: string, sessionId: string): Promise<void> {
  await handleCommand(
    ctx.store,
    signInSessionStreamId(sessionId),
    sessionDecider,
    { type: 'RevokeSession', sessionId, userId, reason: 'logout', now: ctx.now().toISOString() },
    { metadata: { ...ctx.metadata, userId } },
  );
}
