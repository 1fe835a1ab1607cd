import type { Knex } from 'knex';
import { logInUser } from '../../commands/identity/log-in-user';
import { registerUser } from '../../commands/identity/register-user';
import { refreshSession, revokeSession, startSession, type SessionTokens } from '../../commands/identity/sessions';
import { updateProfile } from '../../commands/identity/update-profile';
import { userDecider, userStreamId } from '../../domain/identity/user';
import { loadAggregate } from '../../commands/handle-command';
import { NotFoundError, UnauthorizedError } from '../../domain/shared/errors';
import type { EventStore } from '../../infrastructure/eventstore/event-store';
import type { PasswordHasher } from '../../infrastructure/security/password-hasher';
import { findUserById, userArenaStats, type UserRow } from '../../projections/postgres/identity/user-queries';
import type { MessageBus } from '../../infrastructure/bus/message-bus';
import { usersProjection } from '../../projections/postgres/identity/users-projection';
import type { SessionGuard } from '../shared/auth/session-guard';
import type { TokenService } from '../shared/auth/token-service';
import { defineRoute, type AuthenticatedUser } from '../shared/route';
import {
  LoginBody,
  MeResponse,
  RefreshBody,
  RegisterBody,
  TokenResponse,
  UpdateMeBody,
  UpdateMeResponse,
  UsersMeResponse,
} from './identity-schemas';

export interface IdentityRouteDeps {
  store: EventStore;
  db: Knex;
  /** Read-your-writes stops waiting when the bus is known to be down. */
  bus: MessageBus;
  hasher: PasswordHasher;
  tokens: TokenService;
  sessions: Pick<SessionGuard, 'markRevoked'>;
  now: () => Date;
  newId: () => string;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

function meBody(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    full_name: row.full_name,
    is_active: row.is_active,
    is_admin: row.is_admin,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    last_login: iso(row.last_login),
  };
}

export function identityRoutes(deps: IdentityRouteDeps) {
  /** The answer of register, login and refresh: the tokens of both contracts, for `user`. */
  const tokenBody = (
    user: { id: string; username: string; email: string; full_name: string | null; created_at?: string },
    session: SessionTokens,
  ) => {
    const signedIn: AuthenticatedUser = { id: user.id, username: user.username };
    const issued = deps.tokens.issue(signedIn, session);
    // `access_token` (LapXcel, 1 h + refresh) and `token` (RL-Arena, 24 h, no refresh) differ only in lifetime.
    return { ...issued, token: deps.tokens.issueArenaToken(signedIn, session), user };
  };
  const requireUserRow = async (userId: string): Promise<UserRow> => {
    const row = await findUserById(deps.db, userId);
    if (!row) throw new NotFoundError('User not found');
    return row;
  };

  return [
    defineRoute({
      method: 'post',
      path: '/auth/register',
      summary: 'Register a user',
      tags: ['auth'],
      waitFor: usersProjection,
      auth: 'none',
      rateLimit: 'auth',
      request: { body: RegisterBody },
      responses: {
        201: { description: 'Registered; tokens for both contracts', schema: TokenResponse },
        409: { description: 'Username or email already exists' },
      },
      handler: async (ctx) => {
        const { body } = ctx;
        const outcome = await registerUser(ctx.command, deps.hasher, {
          username: body.username,
          email: body.email,
          password: body.password,
          fullName: body.full_name ?? null,
        });
        const registered = outcome.events[0].type === 'UserRegistered' ? outcome.events[0].data : undefined;
        const session = await startSession(ctx.command, outcome.userId);
        return {
          status: 201,
          written: { streamId: userStreamId(outcome.userId), revision: outcome.revision },
          body: tokenBody(
            { id: outcome.userId, username: body.username, email: body.email, full_name: body.full_name ?? null, created_at: registered?.registeredAt },
            session,
          ),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/auth/login',
      summary: 'Log in by email or username',
      tags: ['auth'],
      waitFor: usersProjection,
      auth: 'none',
      rateLimit: 'auth',
      request: { body: LoginBody },
      responses: {
        200: { description: 'Tokens for both contracts', schema: TokenResponse },
        401: { description: 'Invalid credentials' },
      },
      handler: async (ctx) => {
        const { body } = ctx;
        const identifier = body.email !== undefined ? { email: body.email } : { username: body.username ?? '' };
        const { user, revision } = await logInUser(ctx.command, deps.hasher, identifier, body.password);
        const session = await startSession(ctx.command, user.userId);
        return {
          status: 200,
          written: { streamId: userStreamId(user.userId), revision },
          body: tokenBody({ id: user.userId, username: user.username, email: user.email, full_name: user.fullName }, session),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/auth/refresh',
      summary: 'Exchange a refresh token for new tokens',
      tags: ['auth'],
      auth: 'none',
      rateLimit: 'auth',
      request: { body: RefreshBody },
      responses: {
        200: { description: 'New tokens; the presented refresh token is used up (rotation)', schema: TokenResponse },
        401: { description: 'Invalid, expired, revoked or already used refresh token (reuse revokes the session)' },
      },
      handler: async (ctx) => {
        const claims = deps.tokens.verifyRefresh(ctx.body.refresh_token);
        const { state } = await loadAggregate(deps.store, userStreamId(claims.userId), userDecider);
        if (state.status !== 'registered' || claims.sessionId === undefined) throw new UnauthorizedError('Invalid refresh token');
        const presented = { userId: claims.userId, sessionId: claims.sessionId, refreshTokenId: claims.jti };
        const session = await refreshSession(ctx.command, presented);
        if ('revokedForReuse' in session) {
          deps.sessions.markRevoked(claims.sessionId);
          throw new UnauthorizedError('Refresh token was already used; the session is revoked, sign in again');
        }
        return {
          status: 200,
          body: tokenBody({ id: state.userId, username: state.username, email: state.email, full_name: state.fullName }, session),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/auth/logout',
      summary: "Sign out: revoke the access token's session and its refresh tokens",
      tags: ['auth'],
      auth: 'required',
      rateLimit: 'auth',
      responses: { 204: { description: 'Signed out; the session\'s access and refresh tokens no longer work' } },
      handler: async (ctx) => {
        const sessionId = ctx.user.sessionId;
        if (sessionId === undefined) throw new UnauthorizedError('Invalid access token: no session');
        await revokeSession(ctx.command, ctx.user.id, sessionId);
        deps.sessions.markRevoked(sessionId);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/auth/me',
      summary: 'The authenticated user (LapXcel)',
      tags: ['auth'],
      auth: 'required',
      rateLimit: 'lapxcel',
      responses: { 200: { description: 'Current user', schema: MeResponse } },
      handler: async (ctx) => ({ status: 200, body: meBody(await requireUserRow(ctx.user.id)) }),
    }),
    defineRoute({
      method: 'get',
      path: '/users/me',
      summary: "The authenticated user's profile with arena stats (RL-Arena)",
      tags: ['users'],
      auth: 'required',
      responses: { 200: { description: 'Profile', schema: UsersMeResponse } },
      handler: async (ctx) => {
        const row = await requireUserRow(ctx.user.id);
        return { status: 200, body: { ...meBody(row), stats: await userArenaStats(deps.db, row.id) } };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/users/me',
      summary: "Update the authenticated user's email or full name",
      tags: ['users'],
      waitFor: usersProjection,
      auth: 'required',
      request: { body: UpdateMeBody },
      responses: { 200: { description: 'Updated profile', schema: UpdateMeResponse } },
      handler: async (ctx) => {
        const userId = ctx.user.id;
        const outcome = await updateProfile(ctx.command, userId, {
          email: ctx.body.email,
          fullName: ctx.body.full_name,
        });
        await ctx.caughtUp({ streamId: userStreamId(userId), revision: outcome.revision });
        // The answer from the command's own outcome when it changed the profile (what the row now says); else the row.
        const updated = outcome.events.find((event) => event.type === 'UserProfileUpdated');
        if (updated !== undefined && outcome.state.status === 'registered') {
          const { state } = outcome;
          return {
            status: 200,
            body: { id: state.userId, username: state.username, email: state.email, full_name: state.fullName, updated_at: new Date(updated.data.updatedAt).toISOString() },
          };
        }
        const row = await requireUserRow(userId);
        return {
          status: 200,
          body: { id: row.id, username: row.username, email: row.email, full_name: row.full_name, updated_at: row.updated_at.toISOString() },
        };
      },
    }),
  ];
}
