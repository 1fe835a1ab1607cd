import { randomUUID } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { SessionGuard } from '../../../src/api/shared/auth/session-guard';
import { signInSessionStreamId } from '../../../src/domain/identity/session';
import { userStreamId } from '../../../src/domain/identity/user';
import { UnauthorizedError } from '../../../src/domain/shared/errors';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';

/**
 * The session check behind every signed-in request, on the real event store. Two guards on one
 * store stand for two API processes: the one that records a revocation refuses the session at
 * once; any other refuses it once its cached state is older than the TTL (the documented window),
 * and never later than that.
 */
describe('SessionGuard', () => {
  const TTL_MS = 5_000;
  let databaseUrl: string;
  let knex: Knex;
  let store: PostgresEventStore;
  let clock = 0;
  const guard = (): SessionGuard => new SessionGuard(store, { sessionTtlMs: TTL_MS, now: () => clock });

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('session_guard');
    knex = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 4 } });
    store = new PostgresEventStore(knex, createLogger({ level: 'silent' }));
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await knex?.destroy();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  async function signedInUser(): Promise<{ id: string; username: string; sessionId: string }> {
    const id = randomUUID();
    const sessionId = randomUUID();
    const at = new Date(clock).toISOString();
    await store.append(
      userStreamId(id),
      [{ type: 'UserRegistered', data: { userId: id, username: `u${id.slice(0, 8)}`, email: `${id}@x.io`, passwordHash: 'x', fullName: null, registeredAt: at } }],
      { expectedRevision: 'no_stream' },
    );
    await store.append(
      signInSessionStreamId(sessionId),
      [{ type: 'SessionStarted', data: { sessionId, userId: id, refreshTokenId: randomUUID(), startedAt: at } }],
      { expectedRevision: 'no_stream' },
    );
    return { id, username: `u${id.slice(0, 8)}`, sessionId };
  }

  async function revokeInStore(user: { id: string; sessionId: string }): Promise<void> {
    await store.append(
      signInSessionStreamId(user.sessionId),
      [{ type: 'SessionRevoked', data: { sessionId: user.sessionId, userId: user.id, reason: 'logout', presentedRefreshTokenId: null, revokedAt: new Date(clock).toISOString() } }],
      { expectedRevision: 'stream_exists' },
    );
  }

  const refusal = async (check: Promise<void>): Promise<string> => {
    const error = await check.then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    if (!(error instanceof UnauthorizedError)) throw new Error(`expected an UnauthorizedError, got ${String(error)}`);
    return error.message;
  };

  it('accepts an active session and refuses unknown users, unknown sessions and sessions of another user', async () => {
    const api = guard();
    const alice = await signedInUser();
    const bob = await signedInUser();
    await expect(api.assertActive(alice)).resolves.toBeUndefined();
    expect(await refusal(api.assertActive({ ...alice, id: randomUUID() }))).toMatch(/unknown user/);
    expect(await refusal(api.assertActive({ ...alice, sessionId: randomUUID() }))).toMatch(/unknown session/);
    expect(await refusal(api.assertActive({ ...alice, sessionId: bob.sessionId }))).toMatch(/unknown session/);
    expect(await refusal(api.assertActive({ id: alice.id, username: alice.username }))).toMatch(/no session/);
  });

  it('refuses a session at once in the process that revoked it, and within the TTL in every other process', async () => {
    const here = guard();
    const elsewhere = guard();
    const alice = await signedInUser();
    await here.assertActive(alice);
    await elsewhere.assertActive(alice);

    clock += 1_000;
    await revokeInStore(alice);
    here.markRevoked(alice.sessionId);
    expect(await refusal(here.assertActive(alice))).toMatch(/revoked/);
    // The other process trusts what it read for at most TTL_MS ...
    clock += TTL_MS - 1_000 - 1;
    await expect(elsewhere.assertActive(alice)).resolves.toBeUndefined();
    // ... and then asks the store again, and from then on refuses it for good.
    clock += 1;
    expect(await refusal(elsewhere.assertActive(alice))).toMatch(/revoked/);
    clock += 10 * TTL_MS;
    expect(await refusal(elsewhere.assertActive(alice))).toMatch(/revoked/);
  });

  it('a process that never saw the session reads its current state (a revoked one is refused at once)', async () => {
    const alice = await signedInUser();
    await revokeInStore(alice);
    expect(await refusal(guard().assertActive(alice))).toMatch(/revoked/);
  });
});
