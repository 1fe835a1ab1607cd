import { randomUUID } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { toRecordedEvent } from '../../../src/infrastructure/eventstore/postgres-event-store-schema';
import { comparePositions } from '../../../src/infrastructure/eventstore/event-store';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';
import { eventStoreContract } from './event-store.contract';
import { DeliveryRecorder, delay, newEvent, uniqueStream, waitFor } from './event-store-test-helpers';

const logger = createLogger({ level: 'silent' });

describe('PostgresEventStore', () => {
  let databaseUrl: string;
  let knex: Knex;
  const stores: PostgresEventStore[] = [];

  /** A store on the suite's database; closed in afterAll. */
  function openStore(options: ConstructorParameters<typeof PostgresEventStore>[2] = { pollIntervalMs: 100 }): PostgresEventStore {
    const store = new PostgresEventStore(knex, logger, options);
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('eventstore');
    knex = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 12 } });
    await openStore().migrate();
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await knex?.destroy();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  eventStoreContract('PostgreSQL', async () => openStore());

  it('migrate() is idempotent, also when run concurrently', async () => {
    const store = openStore();
    await Promise.all([store.migrate(), store.migrate(), store.migrate()]);
    await store.ping();
  });

  it('a retried append returns the original position too', async () => {
    const store = openStore();
    const streamId = uniqueStream('retry');
    const batch = [newEvent('A', {}, { id: randomUUID() }), newEvent('B', {}, { id: randomUUID() })];
    const original = await store.append(streamId, batch, { expectedRevision: 'no_stream' });
    const retries = await Promise.all([1, 2, 3].map(() => store.append(streamId, batch, { expectedRevision: 'no_stream' })));
    for (const retry of retries) expect(retry).toEqual(original);
    expect(await store.readStream(streamId)).toHaveLength(2);
  });

  it('rejects a batch whose ids are stored in another arrangement or in another stream', async () => {
    const store = openStore();
    const [first, second] = [randomUUID(), randomUUID()];
    const streamId = uniqueStream('retry');
    await store.append(streamId, [newEvent('A', {}, { id: first }), newEvent('B', {}, { id: second })], { expectedRevision: 'no_stream' });
    await expect(store.append(streamId, [newEvent('B', {}, { id: second }), newEvent('A', {}, { id: first })], { expectedRevision: 'any' })).rejects.toThrow(
      /expected revision/,
    );
    await expect(store.append(uniqueStream('other'), [newEvent('A', {}, { id: first })], { expectedRevision: 'any' })).rejects.toThrow(
      /already stored in stream/,
    );
    await expect(store.append(streamId, [newEvent('A', {}, { id: 'not-a-uuid' })], { expectedRevision: 'any' })).rejects.toThrow(/not a UUID/);
    expect(await store.readStream(streamId)).toHaveLength(2);
  });

  it('with an expected revision the stream has, still rejects ids stored elsewhere or earlier in the stream, and stores nothing', async () => {
    // The append asks whether its ids are a retry only when they can be one; an id met anyway
    // must give the same errors as when it asks first.
    const store = openStore();
    const [first, second] = [randomUUID(), randomUUID()];
    const streamId = uniqueStream('fastpath');
    await store.append(streamId, [newEvent('A', {}, { id: first }), newEvent('B', {}, { id: second })], { expectedRevision: 'no_stream' });
    const other = uniqueStream('other');
    await expect(store.append(other, [newEvent('A', {}, { id: first })], { expectedRevision: 'no_stream' })).rejects.toThrow(/already stored in stream/);
    await expect(store.append(streamId, [newEvent('C'), newEvent('A', {}, { id: first })], { expectedRevision: 1n })).rejects.toThrow(/expected revision/);
    expect(await store.readStream(streamId)).toHaveLength(2);
    expect(await store.readStream(other)).toHaveLength(0);
    // And the stream goes on from where it was.
    expect((await store.append(streamId, [newEvent('C')], { expectedRevision: 1n })).nextExpectedRevision).toBe(2n);
  });

  it('a failed or rolled-back append leaves no stream behind', async () => {
    const store = openStore();
    const streamId = uniqueStream('rollback');
    await expect(store.append(streamId, [newEvent('A')], { expectedRevision: 'stream_exists' })).rejects.toThrow();
    const trx = await knex.transaction();
    await store.appendInTransaction(trx, streamId, [newEvent('A')], { expectedRevision: 'no_stream' });
    await trx.rollback();
    const created = await store.append(streamId, [newEvent('B')], { expectedRevision: 'no_stream' });
    expect(created.nextExpectedRevision).toBe(0n);
    expect((await store.readStream(streamId)).map((event) => event.type)).toEqual(['B']);
  });

  it('converts 64-bit positions and revisions without losing precision', () => {
    const event = toRecordedEvent({
      global_position: '9007199254740993',
      transaction_id: '18446744073709551',
      event_id: randomUUID(),
      stream_id: 's-1',
      revision: '9007199254740995',
      type: 'T',
      data: { a: 1 },
      metadata: { correlationId: 'c' },
      created_at: new Date(),
    });
    expect(event.position).toEqual({ commit: 18446744073709551n, prepare: 9007199254740993n });
    expect(event.revision).toBe(9007199254740995n);
    expect(() => toRecordedEvent({ global_position: 1, transaction_id: '1' })).toThrow();
  });

  describe('the global-position gap', () => {
    it('holds back a later commit until an earlier open transaction commits, then delivers both in order', async () => {
      const store = openStore();
      const [early, late] = [uniqueStream('gap-early'), uniqueStream('gap-late')];
      const marker = await store.append(uniqueStream('gap-marker'), [newEvent('Marker')], { expectedRevision: 'no_stream' });
      const recorder = new DeliveryRecorder(new Set([early, late]));
      const subscription = store.subscribeToAll({ after: marker.position, onEvent: recorder.onEvent, onError: recorder.onError });
      const transactionA = await knex.transaction();
      try {
        const appendedA = await store.appendInTransaction(transactionA, early, [newEvent('FromA')], { expectedRevision: 'no_stream' });
        const appendedB = await store.append(late, [newEvent('FromB')], { expectedRevision: 'no_stream' });
        // A took its sequence value first but B committed first: exactly the case that loses events.
        expect(appendedA.position.prepare < appendedB.position.prepare).toBe(true);
        expect(comparePositions(appendedA.position, appendedB.position)).toBe(-1);

        await delay(600); // several poll intervals, and B's NOTIFY has fired
        expect(recorder.delivered).toEqual([]);
        const visible = await store.readAll({ after: marker.position });
        expect(visible.filter((event) => event.streamId === late)).toEqual([]);

        await transactionA.commit();
        await recorder.waitForCount(2);
        expect(recorder.delivered.map((event) => event.type)).toEqual(['FromA', 'FromB']);
      } finally {
        if (!transactionA.isCompleted()) await transactionA.rollback();
        await subscription.stop();
      }
      expect(recorder.errors).toEqual([]);
    });

    it('delivers the later commit once the earlier open transaction rolls back', async () => {
      const store = openStore();
      const [early, late] = [uniqueStream('gap-early'), uniqueStream('gap-late')];
      const marker = await store.append(uniqueStream('gap-marker'), [newEvent('Marker')], { expectedRevision: 'no_stream' });
      const recorder = new DeliveryRecorder(new Set([early, late]));
      const subscription = store.subscribeToAll({ after: marker.position, onEvent: recorder.onEvent });
      const transactionA = await knex.transaction();
      try {
        await store.appendInTransaction(transactionA, early, [newEvent('FromA')], { expectedRevision: 'no_stream' });
        await store.append(late, [newEvent('FromB')], { expectedRevision: 'no_stream' });
        await delay(400);
        expect(recorder.delivered).toEqual([]);
        await transactionA.rollback();
        await recorder.waitForCount(1);
        await delay(300);
        expect(recorder.delivered.map((event) => event.type)).toEqual(['FromB']);
      } finally {
        if (!transactionA.isCompleted()) await transactionA.rollback();
        await subscription.stop();
      }
    });
  });

  it('LISTEN/NOTIFY wakes a caught-up subscription long before its poll interval', async () => {
    const store = openStore({ pollIntervalMs: 60_000 });
    const streamId = uniqueStream('notify');
    const marker = await store.append(streamId, [newEvent('Marker')], { expectedRevision: 'no_stream' });
    const recorder = new DeliveryRecorder(new Set([streamId]));
    const subscription = store.subscribeToAll({ after: marker.position, onEvent: recorder.onEvent });
    try {
      await delay(300); // caught up and asleep for a minute
      const started = Date.now();
      // Appended repeatedly: a NOTIFY that arrives while another suite's transaction still holds
      // back visibility finds nothing new, and the next one must wake the subscription again.
      let revision = 0n;
      await waitFor(
        'delivery woken by NOTIFY',
        async () => {
          if (recorder.delivered.length > 0) return true;
          revision = (await store.append(streamId, [newEvent('Live')], { expectedRevision: revision })).nextExpectedRevision;
          await delay(100);
          return recorder.delivered.length > 0;
        },
        10_000,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await subscription.stop();
    }
  });
});
