import type { IncomingMessage } from 'node:http';
import { UnauthorizedError } from '../../../domain/shared/errors';
import type { AuthenticatedUser } from '../route';
import type { SessionCheck } from './session-guard';
import type { TokenService } from './token-service';

/**
 * WebSocket gateways authenticate once, at the upgrade. Browsers cannot set headers on a
 * WebSocket, so both contracts pass the access token as `?token=`; a Bearer header is accepted too
 * for non-browser clients.
 */
export function authenticateWebSocketToken(tokens: TokenService, token: string | null | undefined): AuthenticatedUser {
  if (token === undefined || token === null || token === '') throw new UnauthorizedError('Missing access token');
  return tokens.verifyAccess(token);
}

/** The same, plus the session check HTTP requests get (user exists, session not revoked). */
export async function authenticateWebSocketSession(
  tokens: TokenService,
  sessions: SessionCheck | undefined,
  token: string | null | undefined,
): Promise<AuthenticatedUser> {
  const user = authenticateWebSocketToken(tokens, token);
  await sessions?.assertActive(user);
  return user;
}

/** The token of an upgrade request: `?token=` first, then `Authorization: Bearer`. */
export function webSocketTokenOf(request: IncomingMessage): string | undefined {
  const fromQuery = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
  if (fromQuery) return fromQuery;
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}
