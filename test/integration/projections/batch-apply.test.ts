/**
 * PostgreSQL projections apply a batch of events per transaction (projection-runner.ts): a batch
 * redelivered in part or in full changes nothing, an event that can never be applied is still
 * quarantined on its own while its neighbours are applied, and the announcement of applied
 * revisions wakes read-your-writes waiters of another pool (another process).
 */
import { randomUUID } from 'node:crypto';
import { InProcessMessageBus } from '../../../src/infrastructure/bus/in-process-bus';
import type { Consumer } from '../../../src/infrastructure/bus/message-bus';
import { createKnex, type Knex } from '../../../src/infrastructure/database/knex';
import type { JsonObject, RecordedEvent } from '../../../src/infrastructure/eventstore/event-store';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { usersProjection } from '../../../src/projections/postgres/identity/users-projection';
import { applyBatch, migrateProjections, startProjection, waitForProjection } from '../../../src/projections/postgres/projection-runner';
import { createProjectionQuarantineTable } from '../../../src/projections/projection-quarantine';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';
import { relayedMessage } from '../../support/relayed-message';

const logger = createLogger({ name: 'batch-apply-test', level: process.env.TEST_LOG_LEVEL ?? 'error' });

let databaseUrl: string;
let db: Knex;
let store: PostgresEventStore;

beforeAll(async () => {
  databaseUrl = await createTestDatabase('batchapply');
  db = createKnex(databaseUrl);
  store = new PostgresEventStore(db, logger);
  await store.migrate();
  await migrateProjections(db, [usersProjection]);
  await createProjectionQuarantineTable(db);
});

afterAll(async () => {
  await store?.close();
  await db?.destroy();
  if (databaseUrl) await dropTestDatabase(databaseUrl);
});


async function userHistory(userId: string, events: { type: string; data: JsonObject }[]): Promise<RecordedEvent[]> {
  const streamId = `user-${userId}`;
  await store.append(streamId, events, { expectedRevision: 'no_stream' });
  return store.readStream(streamId);
}

const registered = (userId: string, name: string) => ({
  type: 'UserRegistered',
  data: { userId, username: name, email: `${name}@x.io`, passwordHash: 'x', fullName: null, registeredAt: '2026-01-01T00:00:00.000Z' },
});

describe('PostgreSQL projections apply batches', () => {
  it('skips what a partly redelivered batch already applied and applies the rest, in one transaction per batch', async () => {
    const userId = randomUUID();
    const history = await userHistory(userId, [
      registered(userId, `batch_${userId.slice(0, 8)}`),
      { type: 'UserLoggedIn', data: { userId, loggedInAt: '2026-01-02T00:00:00.000Z' } },
      { type: 'UserProfileUpdated', data: { userId, fullName: 'First', updatedAt: '2026-01-03T00:00:00.000Z' } },
      { type: 'UserProfileUpdated', data: { userId, fullName: 'Second', updatedAt: '2026-01-04T00:00:00.000Z' } },
    ]);
    const messages = history.map((event, i) => relayedMessage(event, i));

    expect(await db.transaction((trx) => applyBatch(usersProjection, messages.slice(0, 3), trx))).toBe(3);
    // Marks what a re-applied UserLoggedIn would overwrite.
    await db('users').where({ id: userId }).update({ last_login: '2000-01-01T00:00:00.000Z' });

    // The bus hands the batch over again from its second message, plus one new event.
    expect(await db.transaction((trx) => applyBatch(usersProjection, messages.slice(1), trx))).toBe(1);
    // And once more in full: nothing left to apply.
    expect(await db.transaction((trx) => applyBatch(usersProjection, messages, trx))).toBe(0);

    const row = await db('users').where({ id: userId }).first<{ full_name: string; last_login: Date }>();
    expect(row.full_name).toBe('Second');
    expect(row.last_login.toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(await db('projection_revisions').where({ projection: 'users', stream_id: `user-${userId}` }).first()).toMatchObject({ revision: '3' });
  });

  it('a batch that fails rolls back as a whole: neither rows nor revisions move', async () => {
    const userId = randomUUID();
    const history = await userHistory(userId, [
      registered(userId, `rollback_${userId.slice(0, 8)}`),
      { type: 'UserLoggedIn', data: { userId, loggedIn: 'not the schema' } },
    ]);
    await expect(db.transaction((trx) => applyBatch(usersProjection, history.map(relayedMessage), trx))).rejects.toThrow();
    expect(await db('users').where({ id: userId })).toHaveLength(0);
    expect(await db('projection_revisions').where({ projection: 'users', stream_id: `user-${userId}` })).toHaveLength(0);
  });

  describe('live, on the bus', () => {
    let bus: InProcessMessageBus;
    let consumer: Consumer | undefined;
    let otherProcess: Knex;
    const prefix = `batch${randomUUID().slice(0, 6)}.`;

    beforeAll(async () => {
      bus = new InProcessMessageBus(db, logger, { groupNamespace: prefix, partitions: 1 });
      await bus.migrate();
      otherProcess = createKnex(databaseUrl);
    });
    afterAll(async () => {
      await consumer?.stop();
      await bus?.close();
      await otherProcess?.destroy();
    });

    it('quarantines the one unapplicable event of a batch and applies its neighbours; waiters of another pool are woken', async () => {
      const [good, bad] = [randomUUID(), randomUUID()];
      const goodEvents = await userHistory(good, [
        registered(good, `good_${good.slice(0, 8)}`),
        { type: 'UserProfileUpdated', data: { userId: good, fullName: 'Applied', updatedAt: '2026-01-05T00:00:00.000Z' } },
      ]);
      const badEvents = await userHistory(bad, [{ type: 'UserRegistered', data: { userId: bad } }]);
      // One publish to a one-partition topic: the three arrive as one batch, the bad one in the middle.
      const batch = [goodEvents[0], badEvents[0], goodEvents[1]].map((event, i) => relayedMessage(event, i));
      await bus.publishAll([{ topic: `${prefix}user`, messages: batch.map(({ key, value, headers }) => ({ key, value, headers })) }]);

      const waited = waitForProjection(otherProcess, 'users', `user-${good}`, 1n, { timeoutMs: 60_000 });
      consumer = await startProjection(db, bus, usersProjection, { topicPrefix: prefix, logger });

      expect(await waited).toBe(true);
      expect(await db('users').where({ id: good }).first()).toMatchObject({ full_name: 'Applied' });
      expect(await db('users').where({ id: bad })).toHaveLength(0);
      const quarantined = await db('projection_quarantine').where({ projection: 'users', stream_id: `user-${bad}` });
      expect(quarantined).toHaveLength(1);
      expect(await waitForProjection(otherProcess, 'users', `user-${bad}`, 0n, { timeoutMs: 60_000 })).toBe(true);
    });
  });
});
