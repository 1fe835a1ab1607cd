/**
 * Read-your-writes without the bus (projection-runner.ts, applyOwnWrite / catchUpOwnWrite): the API
 * applies its own command's events to a stream-local read model at once, with the same locks and
 * revisions as the bus path. The bus's delivery of the same events, before, after or at the same
 * time, applies each event exactly once; a projection that is not stream-local still waits for the
 * announcement; a rebuild from history gives the rows the mixed live path wrote.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { RecordingEventStore } from '../../../src/commands/recording-event-store';
import type { DeliveredMessage } from '../../../src/infrastructure/bus/message-bus';
import { createKnex } from '../../../src/infrastructure/database/knex';
import type { JsonObject } from '../../../src/infrastructure/eventstore/event-store';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { usersProjection } from '../../../src/projections/postgres/identity/users-projection';
import { postgresProjection, type PostgresProjection } from '../../../src/projections/postgres/postgres-projection';
import { rebuildProjection } from '../../../src/projections/postgres/projection-rebuild';
import { applyBatch, applyOwnWrite, catchUpOwnWrite, migrateProjections } from '../../../src/projections/postgres/projection-runner';
import { projectionAppliedSignalOf } from '../../../src/projections/postgres/projection-applied-signal';
import { add } from '../../../src/projections/postgres/row-fold';
import { everyEventReadable } from '../../support/every-event-readable';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';
import { relayedMessage } from '../../support/relayed-message';

const logger = createLogger({ name: 'own-write-apply-test', level: process.env.TEST_LOG_LEVEL ?? 'error' });

/**
 * Counts how often each profile update was applied (a handler that is not idempotent by itself, so
 * a double application shows), one row per user stream.
 */
function profileUpdateCounter(name: string, streamLocal: boolean): PostgresProjection {
  return postgresProjection({
    name,
    categories: ['user'],
    tables: [name],
    ...(streamLocal ? { streamLocal: true } : {}),
    async createTables(db: Knex | Knex.Transaction) {
      await db.raw(`CREATE TABLE IF NOT EXISTS ${name} (user_id uuid PRIMARY KEY, updates integer NOT NULL, last_name text)`);
    },
    on: {
      async UserProfileUpdated(event, trx) {
        await trx.raw(
          `INSERT INTO ${name} (user_id, updates, last_name) VALUES (?, 1, ?)
           ON CONFLICT (user_id) DO UPDATE SET updates = ${name}.updates + 1, last_name = EXCLUDED.last_name`,
          [event.data.userId, event.data.fullName ?? null],
        );
      },
    },
  });
}

const counter = profileUpdateCounter('profile_update_counts', true);

/** The same count said as row changes (`fold`): its own write goes out in one round trip. */
const FOLD_TABLE = 'profile_update_folds';
const foldCounter = postgresProjection({
  name: FOLD_TABLE,
  categories: ['user'],
  tables: [FOLD_TABLE],
  streamLocal: true,
  async createTables(db: Knex | Knex.Transaction) {
    await db.raw(`CREATE TABLE IF NOT EXISTS ${FOLD_TABLE} (user_id uuid PRIMARY KEY, updates integer NOT NULL, last_name text)`);
  },
  fold: {
    tables: [{ table: FOLD_TABLE, key: 'user_id' }],
    on: {
      UserProfileUpdated({ data }, rows) {
        rows.upsert(FOLD_TABLE, { user_id: data.userId, updates: 1, last_name: data.fullName ?? null }, { updates: add(1), last_name: data.fullName ?? null });
      },
    },
  },
});
const unlocalCounter = profileUpdateCounter('profile_update_counts_waiting', false);

let databaseUrl: string;
let db: Knex;
let store: PostgresEventStore;

beforeAll(async () => {
  databaseUrl = await createTestDatabase('ownwrite');
  db = createKnex(databaseUrl);
  store = new PostgresEventStore(db, logger);
  await store.migrate();
  await migrateProjections(db, [usersProjection, counter, unlocalCounter, foldCounter]);
});

afterAll(async () => {
  await store?.close();
  await db?.destroy();
  if (databaseUrl) await dropTestDatabase(databaseUrl);
});


const registered = (userId: string) => ({
  type: 'UserRegistered',
  data: { userId, username: `own_${userId.slice(0, 8)}`, email: `${userId.slice(0, 8)}@x.io`, passwordHash: 'x', fullName: null, registeredAt: '2026-01-01T00:00:00.000Z' },
});
const updated = (userId: string, fullName: string, day: number) => ({
  type: 'UserProfileUpdated',
  data: { userId, fullName, updatedAt: `2026-01-${String(day).padStart(2, '0')}T00:00:00.000Z` },
});

async function append(streamId: string, events: { type: string; data: JsonObject }[]): Promise<bigint> {
  const current = (await store.readStream(streamId, { direction: 'backward', maxCount: 1 }))[0]?.revision;
  const result = await store.append(streamId, events, { expectedRevision: current === undefined ? 'no_stream' : current });
  return result.nextExpectedRevision;
}

const appliedRevision = async (projection: string, streamId: string): Promise<string | undefined> =>
  (await db('projection_revisions').where({ projection, stream_id: streamId }).first<{ revision: string } | undefined>())?.revision;

describe('applying the own write of a command', () => {
  it('applies the command at once; the bus delivering the same events later applies nothing', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    await append(streamId, [registered(userId)]);
    const revision = await append(streamId, [updated(userId, 'Inline', 2)]);

    expect(await applyOwnWrite(db, store, usersProjection, streamId, revision)).toBe(true);
    expect(await db('users').where({ id: userId }).first()).toMatchObject({ full_name: 'Inline' });
    expect(await appliedRevision('users', streamId)).toBe('1');

    // The bus delivers the whole stream afterwards (and again: a redelivery): nothing is applied twice.
    const messages = (await store.readStream(streamId)).map(relayedMessage);
    await db('users').where({ id: userId }).update({ full_name: 'marker' });
    expect(await db.transaction((trx) => applyBatch(usersProjection, messages, trx))).toBe(0);
    expect(await db.transaction((trx) => applyBatch(usersProjection, messages.slice(1), trx))).toBe(0);
    expect(await db('users').where({ id: userId }).first()).toMatchObject({ full_name: 'marker' });
  });

  it('catches a projection that is several events behind up to the revision, in stream order', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    await append(streamId, [registered(userId), updated(userId, 'One', 2)]);
    const revision = await append(streamId, [updated(userId, 'Two', 3), updated(userId, 'Three', 4)]);

    expect(await applyOwnWrite(db, store, counter, streamId, revision)).toBe(true);
    expect(await db(counter.name).where({ user_id: userId }).first()).toMatchObject({ updates: 3, last_name: 'Three' });
    expect(await appliedRevision(counter.name, streamId)).toBe('3');
    // Asking again (a second waiter of the same write) changes nothing.
    expect(await applyOwnWrite(db, store, counter, streamId, revision)).toBe(true);
    expect(await db(counter.name).where({ user_id: userId }).first()).toMatchObject({ updates: 3 });
  });

  it('after the bus got there first, applies nothing', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    const revision = await append(streamId, [registered(userId), updated(userId, 'Bus', 2)]);
    const messages = (await store.readStream(streamId)).map(relayedMessage);
    expect(await db.transaction((trx) => applyBatch(counter, messages, trx))).toBe(1); // UserRegistered only moves the revision

    expect(await applyOwnWrite(db, store, counter, streamId, revision)).toBe(true);
    expect(await db(counter.name).where({ user_id: userId }).first()).toMatchObject({ updates: 1, last_name: 'Bus' });
  });

  it('racing the bus delivery of the same events, every event is applied exactly once', async () => {
    const rounds = 12;
    await Promise.all(
      Array.from({ length: rounds }, async (_, round) => {
        const userId = randomUUID();
        const streamId = `user-${userId}`;
        await append(streamId, [registered(userId)]);
        let revision = 0n;
        const delivered: DeliveredMessage[] = [];
        for (let i = 1; i <= 4; i++) {
          revision = await append(streamId, [updated(userId, `Name ${i}`, i + 1)]);
          const batch = (await store.readStream(streamId, { fromRevision: revision })).map(relayedMessage);
          delivered.push(...batch);
          // The bus redelivers everything so far while the API applies its own write, in either order.
          const bus = db.transaction((trx) => applyBatch(counter, [...delivered], trx));
          const own = applyOwnWrite(db, store, counter, streamId, revision);
          const [, caughtUp] = round % 2 === 0 ? await Promise.all([bus, own]) : (await Promise.all([own, bus])).reverse();
          expect(caughtUp).toBe(true);
        }
        expect(await db(counter.name).where({ user_id: userId }).first()).toMatchObject({ updates: 4, last_name: 'Name 4' });
        expect(await appliedRevision(counter.name, streamId)).toBe('4');
      }),
    );
  });

  it('derived writes commit without waiting for their fsync', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    await append(streamId, [registered(userId)]);
    const setting = await db.transaction(async (trx) => {
      await applyBatch(usersProjection, (await store.readStream(streamId)).map(relayedMessage), trx);
      return (await trx.raw<{ rows: { synchronous_commit: string }[] }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit;
    });
    expect(setting).toBe('off');
    expect((await db.raw<{ rows: { synchronous_commit: string }[] }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit).toBe('on');
  });

  it('refuses a projection that is not stream-local, which keeps waiting for the announcement', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    const revision = await append(streamId, [registered(userId), updated(userId, 'Waited', 2)]);
    await expect(applyOwnWrite(db, store, unlocalCounter, streamId, revision)).rejects.toThrow(/not stream-local/);

    // Nothing applies it: the bounded wait gives up, and nothing was written ahead of the bus.
    expect(await catchUpOwnWrite(db, store, unlocalCounter, streamId, revision, { logger, timeoutMs: 300 })).toBe(false);
    expect(await db(unlocalCounter.name).where({ user_id: userId })).toHaveLength(0);

    // The bus path applies it (in another pool, as a projections worker would): the waiter is woken.
    const waiting = catchUpOwnWrite(db, store, unlocalCounter, streamId, revision, { logger, timeoutMs: 30_000 });
    const worker = createKnex(databaseUrl);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const messages = (await store.readStream(streamId)).map(relayedMessage);
      await worker.transaction((trx) => applyBatch(unlocalCounter, messages, trx));
      expect(await waiting).toBe(true);
    } finally {
      await worker.destroy();
    }
    expect(await db(unlocalCounter.name).where({ user_id: userId }).first()).toMatchObject({ updates: 1 });
  });

  it('a rebuild from history gives the rows that own writes and bus deliveries wrote together', async () => {
    const users = Array.from({ length: 6 }, () => randomUUID());
    for (const [i, userId] of users.entries()) {
      const streamId = `user-${userId}`;
      await append(streamId, [registered(userId)]);
      const revision = await append(streamId, [updated(userId, `Mixed ${i}`, 2)]);
      // Some streams are applied by the API first, some by the bus first, some by both at once.
      const messages = (await store.readStream(streamId)).map(relayedMessage);
      if (i % 3 === 0) await applyOwnWrite(db, store, usersProjection, streamId, revision);
      if (i % 3 === 1) await db.transaction((trx) => applyBatch(usersProjection, messages, trx));
      await Promise.all([applyOwnWrite(db, store, usersProjection, streamId, revision), db.transaction((trx) => applyBatch(usersProjection, messages, trx))]);
    }
    // This test's streams (the other tests' streams were never all applied to `users`).
    const snapshot = async () => ({
      users: await db('users').whereIn('id', users).select('*').orderBy('id'),
      revisions: await db('projection_revisions')
        .where({ projection: 'users' })
        .whereIn('stream_id', users.map((id) => `user-${id}`))
        .select('stream_id', 'revision')
        .orderBy('stream_id'),
    });
    const live = await snapshot();
    // Own writes read streams, a rebuild reads `$all`, which holds back writes while other suites' transactions run.
    await everyEventReadable(db, store);
    await rebuildProjection(db, store, usersProjection, { logger });
    expect(await snapshot()).toEqual(live);
  });
});

describe("applying a request's own appended events without reading them back", () => {
  /** The real store; counts stream reads. */
  const countingReads = (): { store: PostgresEventStore; reads: () => number } => {
    let reads = 0;
    const counted = Object.create(store) as PostgresEventStore;
    counted.readStream = (...args) => {
      reads++;
      return store.readStream(...args);
    };
    return { store: counted, reads: () => reads };
  };

  it('the events an append answers are the events a read of the stream returns', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [registered(userId)], { expectedRevision: 'no_stream' });
    await recording.append(streamId, [updated(userId, 'Émile "quoted" \u2603', 2), updated(userId, 'Second', 3)], { expectedRevision: 0n });
    expect(recording.appendedFrom(streamId, 0n)).toEqual(await store.readStream(streamId));
    expect(recording.appendedFrom(streamId, 1n)).toEqual(await store.readStream(streamId, { fromRevision: 1n }));
    // Not all of them from there (nothing appended at 5 by this store): read instead.
    expect(recording.appendedFrom(streamId, 5n)).toBeUndefined();
    expect(recording.appendedFrom(`user-${randomUUID()}`, 0n)).toBeUndefined();
  });

  it('a stream that another writer appended to in between is read, not taken from memory', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [registered(userId)], { expectedRevision: 'no_stream' });
    await store.append(streamId, [updated(userId, 'Elsewhere', 2)], { expectedRevision: 0n }); // another request
    await recording.append(streamId, [updated(userId, 'Mine', 3)], { expectedRevision: 1n });
    expect(recording.appendedFrom(streamId, 0n)).toBeUndefined(); // revision 1 is not its own
    expect(recording.appendedFrom(streamId, 2n)).toEqual(await store.readStream(streamId, { fromRevision: 2n }));
  });

  it('keeps a bounded number of streams and text: what was let go is read instead', async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const recording = new RecordingEventStore(store, { maxStreams: 1 });
    await recording.append(`user-${first}`, [registered(first)], { expectedRevision: 'no_stream' });
    await recording.append(`user-${second}`, [registered(second)], { expectedRevision: 'no_stream' });
    expect(recording.appendedFrom(`user-${first}`, 0n)).toBeUndefined();
    expect(recording.appendedFrom(`user-${second}`, 0n)).toEqual(await store.readStream(`user-${second}`));
    const small = new RecordingEventStore(store, { maxTextLength: 10 });
    const third = randomUUID();
    await small.append(`user-${third}`, [registered(third)], { expectedRevision: 'no_stream' });
    expect(small.appendedFrom(`user-${third}`, 0n)).toBeUndefined();
  });

  it('applies the own events without a read, as the read would have', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [registered(userId), updated(userId, 'One', 2)], { expectedRevision: 'no_stream' });
    const { store: counted, reads } = countingReads();
    expect(await applyOwnWrite(db, counted, counter, streamId, 1n, (from) => recording.appendedFrom(streamId, from))).toBe(true);
    expect(reads()).toBe(0);
    expect(await db(counter.name).where({ user_id: userId }).first()).toMatchObject({ updates: 1, last_name: 'One' });
    expect(await appliedRevision(counter.name, streamId)).toBe('1');
  });

  it('a projection further behind than the own events is caught up from the store', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    await store.append(streamId, [registered(userId), updated(userId, 'Before', 2)], { expectedRevision: 'no_stream' }); // not applied yet
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [updated(userId, 'Mine', 3)], { expectedRevision: 1n });
    const { store: counted, reads } = countingReads();
    expect(await applyOwnWrite(db, counted, counter, streamId, 2n, (from) => recording.appendedFrom(streamId, from))).toBe(true);
    expect(reads()).toBe(1); // from where the projection stood
    expect(await db(counter.name).where({ user_id: userId }).first()).toMatchObject({ updates: 2, last_name: 'Mine' });
  });
});

describe('the own write of a projection said as row changes, in one round trip', () => {
  /** Statements the pool sent while `run` ran (BEGIN and COMMIT of a knex transaction count too). */
  async function statementsOf<T>(run: () => Promise<T>): Promise<{ result: T; statements: number }> {
    let statements = 0;
    const count = () => statements++;
    db.on('query', count);
    try {
      const result = await run();
      return { result, statements };
    } finally {
      db.off('query', count);
    }
  }
  const folded = async (userId: string) => db(FOLD_TABLE).where({ user_id: userId }).first<{ updates: number; last_name: string } | undefined>();

  it('applies the own events with one statement; a later delivery of them by the bus applies nothing', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [registered(userId)], { expectedRevision: 'no_stream' });
    const first = await statementsOf(() => applyOwnWrite(db, store, foldCounter, streamId, 0n, (from) => recording.appendedFrom(streamId, from)));
    expect(first).toEqual({ result: true, statements: 1 }); // a new stream: its revision row is created
    await recording.append(streamId, [updated(userId, 'One', 2)], { expectedRevision: 0n });
    const second = await statementsOf(() => applyOwnWrite(db, store, foldCounter, streamId, 1n, (from) => recording.appendedFrom(streamId, from)));
    expect(second).toEqual({ result: true, statements: 1 });
    expect(await folded(userId)).toMatchObject({ updates: 1, last_name: 'One' });
    expect(await appliedRevision(FOLD_TABLE, streamId)).toBe('1');

    const messages = (await store.readStream(streamId)).map(relayedMessage);
    expect(await db.transaction((trx) => applyBatch(foldCounter, messages, trx))).toBe(0);
    expect(await applyOwnWrite(db, store, foldCounter, streamId, 1n, (from) => recording.appendedFrom(streamId, from))).toBe(true);
    expect(await folded(userId)).toMatchObject({ updates: 1, last_name: 'One' });
  });

  it('announces what it applied, so a waiter in another pool is woken', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [registered(userId)], { expectedRevision: 'no_stream' });
    expect(await applyOwnWrite(db, store, foldCounter, streamId, 0n, (from) => recording.appendedFrom(streamId, from))).toBe(true);
    await recording.append(streamId, [updated(userId, 'Heard', 2)], { expectedRevision: 0n });
    const other = createKnex(databaseUrl);
    try {
      const signal = projectionAppliedSignalOf(other);
      const heard = signal.waitFor(FOLD_TABLE, streamId, 1n, 30_000, undefined);
      await new Promise((resolve) => setTimeout(resolve, 200)); // its LISTEN is in place
      const { statements } = await statementsOf(() => applyOwnWrite(db, store, foldCounter, streamId, 1n, (from) => recording.appendedFrom(streamId, from)));
      expect(statements).toBe(1);
      expect(await heard).toBe(true);
    } finally {
      await other.destroy();
    }
  });

  it('when the bus got there first, writes nothing and answers from the locked path', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [registered(userId), updated(userId, 'Bus', 2)], { expectedRevision: 'no_stream' });
    const messages = (await store.readStream(streamId)).map(relayedMessage);
    expect(await db.transaction((trx) => applyBatch(foldCounter, messages, trx))).toBe(1);
    await db(FOLD_TABLE).where({ user_id: userId }).update({ last_name: 'marker' });

    expect(await applyOwnWrite(db, store, foldCounter, streamId, 1n, (from) => recording.appendedFrom(streamId, from))).toBe(true);
    expect(await folded(userId)).toMatchObject({ updates: 1, last_name: 'marker' });
    expect(await appliedRevision(FOLD_TABLE, streamId)).toBe('1');
  });

  it('a projection behind the own events is caught up from the store, in stream order', async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}`;
    await store.append(streamId, [registered(userId), updated(userId, 'Before', 2)], { expectedRevision: 'no_stream' }); // never applied
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [updated(userId, 'Mine', 3)], { expectedRevision: 1n });
    expect(await applyOwnWrite(db, store, foldCounter, streamId, 2n, (from) => recording.appendedFrom(streamId, from))).toBe(true);
    expect(await folded(userId)).toMatchObject({ updates: 2, last_name: 'Mine' });
    expect(await appliedRevision(FOLD_TABLE, streamId)).toBe('2');
  });

  it("its derived write does not wait for the fsync: a query's statements share one transaction and its local setting", async () => {
    const results = (await db.raw(`SELECT set_config('synchronous_commit', 'off', true); SHOW synchronous_commit`)) as unknown as { rows: { synchronous_commit?: string }[] }[];
    expect(results[1]?.rows[0]?.synchronous_commit).toBe('off');
    expect((await db.raw<{ rows: { synchronous_commit: string }[] }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit).toBe('on');
  });

  it('racing the bus delivery of the same events, every event is applied exactly once', async () => {
    await Promise.all(
      Array.from({ length: 12 }, async (_, round) => {
        const userId = randomUUID();
        const streamId = `user-${userId}`;
        const recording = new RecordingEventStore(store);
        await recording.append(streamId, [registered(userId)], { expectedRevision: 'no_stream' });
        const delivered: DeliveredMessage[] = [];
        for (let i = 1; i <= 4; i++) {
          await recording.append(streamId, [updated(userId, `Name ${i}`, i + 1)], { expectedRevision: BigInt(i - 1) });
          delivered.push(...(await store.readStream(streamId, { fromRevision: BigInt(i) })).map(relayedMessage));
          const bus = db.transaction((trx) => applyBatch(foldCounter, [...delivered], trx));
          const own = applyOwnWrite(db, store, foldCounter, streamId, BigInt(i), (from) => recording.appendedFrom(streamId, from));
          const [, caughtUp] = round % 2 === 0 ? await Promise.all([bus, own]) : (await Promise.all([own, bus])).reverse();
          expect(caughtUp).toBe(true);
        }
        expect(await folded(userId)).toMatchObject({ updates: 4, last_name: 'Name 4' });
        expect(await appliedRevision(FOLD_TABLE, streamId)).toBe('4');
      }),
    );
  });

  it("stream ids and values with quotes, backslashes and '?' are written as they are", async () => {
    const userId = randomUUID();
    const streamId = `user-${userId}'?\\"; SELECT 1; --`;
    const recording = new RecordingEventStore(store);
    await recording.append(streamId, [registered(userId)], { expectedRevision: 'no_stream' });
    expect(await statementsOf(() => applyOwnWrite(db, store, foldCounter, streamId, 0n, (from) => recording.appendedFrom(streamId, from)))).toEqual({ result: true, statements: 1 });
    await recording.append(streamId, [updated(userId, `O'Brien \\ ? ?? $1 :x`, 2)], { expectedRevision: 0n });
    const { result, statements } = await statementsOf(() => applyOwnWrite(db, store, foldCounter, streamId, 1n, (from) => recording.appendedFrom(streamId, from)));
    expect({ result, statements }).toEqual({ result: true, statements: 1 });
    expect(await folded(userId)).toMatchObject({ updates: 1, last_name: `O'Brien \\ ? ?? $1 :x` });
    expect(await appliedRevision(FOLD_TABLE, streamId)).toBe('1');
  });

  it('the users read model (a fold) takes the one-statement form too, and a rebuild gives the same rows', async () => {
    const users = Array.from({ length: 4 }, () => randomUUID());
    for (const [i, userId] of users.entries()) {
      const streamId = `user-${userId}`;
      const recording = new RecordingEventStore(store);
      await recording.append(streamId, [registered(userId)], { expectedRevision: 'no_stream' });
      expect(await statementsOf(() => applyOwnWrite(db, store, usersProjection, streamId, 0n, (from) => recording.appendedFrom(streamId, from)))).toEqual({ result: true, statements: 1 });
      await recording.append(streamId, [updated(userId, `Folded ${i}`, 3)], { expectedRevision: 0n });
      expect(await statementsOf(() => applyOwnWrite(db, store, usersProjection, streamId, 1n, (from) => recording.appendedFrom(streamId, from)))).toEqual({ result: true, statements: 1 });
    }
    const snapshot = async () => ({
      users: await db('users').whereIn('id', users).select('*').orderBy('id'),
      revisions: await db('projection_revisions').where({ projection: 'users' }).whereIn('stream_id', users.map((id) => `user-${id}`)).select('stream_id', 'revision').orderBy('stream_id'),
    });
    const live = await snapshot();
    expect(live.users.map((row: { full_name: string }) => row.full_name).sort()).toEqual(['Folded 0', 'Folded 1', 'Folded 2', 'Folded 3']);
    await everyEventReadable(db, store);
    await rebuildProjection(db, store, usersProjection, { logger });
    expect(await snapshot()).toEqual(live);
  });
});
