/**
 * The relay on the PostgreSQL event store: woken by the append notification rather than a timer,
 * it still finds events that PostgreSQL held back behind an older transaction which then ended
 * without any notification (the position gap), and it publishes a batch with one bus call and one
 * checkpoint write. The safety poll is set to ten minutes here, so only push can deliver in time.
 */
import { randomUUID } from 'node:crypto';
import { InProcessMessageBus } from '../../../src/infrastructure/bus/in-process-bus';
import type { Consumer, DeliveredMessage, TopicMessages } from '../../../src/infrastructure/bus/message-bus';
import { createKnex, type Knex } from '../../../src/infrastructure/database/knex';
import type { GlobalPosition, StoreIdentity } from '../../../src/infrastructure/eventstore/event-store';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { EventRelay } from '../../../src/infrastructure/relay/event-relay';
import { RelayCheckpoints } from '../../../src/infrastructure/relay/relay-checkpoints';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';

const logger = createLogger({ name: 'event-relay-test', level: process.env.TEST_LOG_LEVEL ?? 'error' });
const TEN_MINUTES = 600_000;

class CountingBus extends InProcessMessageBus {
  publishCalls = 0;
  override async publishAll(batches: TopicMessages[]): Promise<void> {
    this.publishCalls++;
    await super.publishAll(batches);
  }
}

class CountingCheckpoints extends RelayCheckpoints {
  saves = 0;
  override async save(name: string, position: GlobalPosition, store: StoreIdentity): Promise<void> {
    this.saves++;
    await super.save(name, position, store);
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('EventRelay on PostgreSQL', () => {
  let databaseUrl: string;
  let db: Knex;
  let store: PostgresEventStore;
  let bus: CountingBus;
  let checkpoints: CountingCheckpoints;
  let relay: EventRelay | undefined;
  let consumer: Consumer | undefined;
  let prefix: string;
  const received: DeliveredMessage[] = [];

  beforeEach(async () => {
    databaseUrl = await createTestDatabase('relay');
    db = createKnex(databaseUrl);
    store = new PostgresEventStore(db, logger);
    await store.migrate();
    prefix = `relay${randomUUID().slice(0, 6)}.`;
    bus = new CountingBus(db, logger, { groupNamespace: prefix });
    await bus.migrate();
    checkpoints = new CountingCheckpoints(db);
    await checkpoints.migrate();
    received.length = 0;
    consumer = await bus.subscribe({
      groupId: 'recorder',
      topics: [`${prefix}order`, `${prefix}invoice`, `${prefix}parcel`],
      batchHandler: async (messages) => void received.push(...messages),
    });
  });

  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await consumer?.stop();
    await bus.close();
    await store.close();
    await db.destroy();
    await dropTestDatabase(databaseUrl);
  });

  const startRelay = (): EventRelay => {
    relay = new EventRelay(store, bus, checkpoints, logger, { topicPrefix: prefix, idlePollMs: TEN_MINUTES });
    relay.start();
    return relay;
  };

  it('is woken by the append notification, not by its (ten-minute) poll', async () => {
    startRelay();
    await new Promise((resolve) => setTimeout(resolve, 300)); // caught up and asleep
    await store.append(`order-${randomUUID()}`, [{ type: 'OrderPlaced', data: { n: 1 } }], { expectedRevision: 'no_stream' });
    await waitFor('the event on the bus', () => received.length === 1);
    expect(received[0].headers['event-type']).toBe('OrderPlaced');
  });

  it('finds an event held back behind an older transaction that ends without notifying', async () => {
    startRelay();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A writer that started before the append and holds the read horizon back; it appends nothing.
    const blocker = await db.transaction();
    try {
      await blocker.raw('SELECT pg_current_xact_id()');
      await store.append(`order-${randomUUID()}`, [{ type: 'OrderPlaced', data: { n: 2 } }], { expectedRevision: 'no_stream' });
      // The notification came while the event was invisible: nothing can be published yet.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(received).toHaveLength(0);
    } finally {
      await blocker.commit(); // no append, so no notification follows
    }
    await waitFor('the held-back event on the bus', () => received.length === 1);
    expect(received[0].headers['event-type']).toBe('OrderPlaced');
  });

  it('publishes a batch of several topics with one bus call and one checkpoint write', async () => {
    for (let i = 0; i < 30; i++) {
      const category = ['order', 'invoice', 'parcel'][i % 3];
      await store.append(`${category}-${randomUUID()}`, [{ type: 'Happened', data: { i } }], { expectedRevision: 'no_stream' });
    }
    const relayOnce = new EventRelay(store, bus, checkpoints, logger, { topicPrefix: prefix, batchSize: 500 });
    expect(await relayOnce.relayPending()).toBe(30);
    expect(bus.publishCalls).toBe(1);
    expect(checkpoints.saves).toBe(1);
    await waitFor('every event on the bus', () => received.length === 30);
    expect(new Set(received.map((m) => m.topic))).toEqual(new Set([`${prefix}order`, `${prefix}invoice`, `${prefix}parcel`]));
  });

  describe('its checkpoint, kept in memory between passes', () => {
    class LoadCountingCheckpoints extends RelayCheckpoints {
      loads = 0;
      override async load(name: string, store: StoreIdentity): Promise<GlobalPosition | undefined> {
        this.loads++;
        return super.load(name, store);
      }
    }
    const startWith = (own: RelayCheckpoints): EventRelay => {
      relay = new EventRelay(store, bus, own, logger, { topicPrefix: prefix, idlePollMs: TEN_MINUTES });
      relay.start();
      return relay;
    };
    const storedPosition = async (): Promise<string | undefined> =>
      (await db('relay_checkpoints').where({ name: 'main' }).first<{ position: string } | undefined>())?.position;

    it('is loaded once while the relay runs, and saved after each batch', async () => {
      const own = new LoadCountingCheckpoints(db);
      startWith(own);
      for (let i = 1; i <= 5; i++) {
        await store.append(`order-${randomUUID()}`, [{ type: 'OrderPlaced', data: { i } }], { expectedRevision: 'no_stream' });
        await waitFor(`event ${i} on the bus`, () => received.length === i);
      }
      expect(own.loads).toBe(1);
      const last = (await store.readAll()).at(-1)!.position;
      for (let tries = 0; (await storedPosition()) !== `${last.commit}:${last.prepare}`; tries++) {
        if (tries > 250) throw new Error('the checkpoint never reached the last event');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });

    it('reset by an operator while the relay runs, it is loaded again and the history republished', async () => {
      startWith(new RelayCheckpoints(db));
      const first = `order-${randomUUID()}`;
      await store.append(first, [{ type: 'OrderPlaced', data: { n: 1 } }], { expectedRevision: 'no_stream' });
      await waitFor('the first event on the bus', () => received.length === 1);
      for (let tries = 0; (await storedPosition()) === undefined; tries++) {
        if (tries > 250) throw new Error('no checkpoint saved');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await db('relay_checkpoints').where({ name: 'main' }).delete(); // publish everything again
      const second = `order-${randomUUID()}`;
      await store.append(second, [{ type: 'OrderPlaced', data: { n: 2 } }], { expectedRevision: 'no_stream' });
      // The save after the second event finds the checkpoint gone: the relay loads it (none) and starts over.
      // The two streams' keys may land on different partitions, which the bus orders separately.
      const copies = (key: string) => received.filter((m) => m.key === key).length;
      await waitFor('both events again', () => copies(first) === 2 && copies(second) === 2);
      expect(received.map((m) => m.key).sort()).toEqual([first, first, second, second].sort());
      const last = (await store.readAll()).at(-1)!.position;
      for (let tries = 0; (await storedPosition()) !== `${last.commit}:${last.prepare}`; tries++) {
        if (tries > 250) throw new Error('the checkpoint never reached the last event again');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });

    it('a save from a position the checkpoint has left writes nothing', async () => {
      const own = new RelayCheckpoints(db);
      const identity = await store.identity();
      await own.save('other', { commit: 10n, prepare: 1n }, identity, 'none');
      await expect(own.save('other', { commit: 11n, prepare: 1n }, identity, 'none')).rejects.toThrow(/changed by someone else/);
      await expect(own.save('other', { commit: 12n, prepare: 1n }, identity, { commit: 9n, prepare: 1n })).rejects.toThrow(/changed by someone else/);
      await own.save('other', { commit: 13n, prepare: 1n }, identity, { commit: 10n, prepare: 1n });
      expect(await own.load('other', identity)).toEqual({ commit: 13n, prepare: 1n });
    });
  });
});
