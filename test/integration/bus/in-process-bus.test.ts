/**
 * The MessageBus contract against the durable in-process bus on the test PostgreSQL, plus what only
 * this adapter promises: offsets without gaps under concurrent publishers, durability across bus
 * instances (a restart), partitions split across "processes" (bus instances on separate pools),
 * and trimming what every group has committed.
 */
import { randomBytes } from 'node:crypto';
import { createKnex, type Knex } from '../../../src/infrastructure/database/knex';
import { InProcessMessageBus, partitionOfKey, publishedPayloadOf } from '../../../src/infrastructure/bus/in-process-bus';
import { InProcessOffsetCommits } from '../../../src/infrastructure/bus/in-process-offset-commits';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import type { DeliveredMessage } from '../../../src/infrastructure/bus/message-bus';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';
import { messageBusContract, sleep, waitFor } from './message-bus.contract';

const logger = createLogger({ name: 'in-process-bus-test', level: process.env.TEST_LOG_LEVEL ?? 'error' });
const uniquePrefix = (): string => `bus-${randomBytes(4).toString('hex')}`;
/** Fast timings so group changes settle quickly in tests; production uses the defaults. */
const timing = { heartbeatIntervalMs: 200, pollIntervalMs: 100 };

describe('InProcessMessageBus', () => {
  let databaseUrl: string;
  let db: Knex;
  const extraPools: Knex[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('bus');
    db = createKnex(databaseUrl);
    await new InProcessMessageBus(db, logger).migrate();
  });

  afterAll(async () => {
    await Promise.all(extraPools.map((pool) => pool.destroy()));
    await db.destroy();
    await dropTestDatabase(databaseUrl);
  });

  messageBusContract('in-process', async () => ({
    bus: new InProcessMessageBus(db, logger, timing),
    topicPrefix: uniquePrefix(),
  }));

  describe('in-process specifics', () => {
    const buses: InProcessMessageBus[] = [];
    const newBus = (pool: Knex = db): InProcessMessageBus => {
      const bus = new InProcessMessageBus(pool, logger, timing);
      buses.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
    });

    it('migrates idempotently, also concurrently', async () => {
      const bus = newBus();
      await Promise.all([bus.migrate(), bus.migrate(), newBus().migrate()]);
    });

    it('hands out offsets without gaps to concurrent publishers', async () => {
      const bus = newBus();
      const topic = `${uniquePrefix()}.concurrent`;
      await Promise.all(
        Array.from({ length: 20 }, (_, writer) =>
          bus.publish(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 2}`, value: `${writer}-${i}` }))),
        ),
      );
      const { rows } = await db.raw<{ rows: { partition: number; offsets: string[] }[] }>(
        `SELECT partition, array_agg("offset"::text ORDER BY "offset") AS offsets FROM bus.messages WHERE topic = ? GROUP BY partition`,
        [topic],
      );
      expect(rows.reduce((sum, row) => sum + row.offsets.length, 0)).toBe(200);
      for (const row of rows) expect(row.offsets).toEqual(row.offsets.map((_, i) => String(i)));
    });

    it('delivers messages no announcement covered (a lost notification), after an announced one, and in order', async () => {
      const bus = newBus();
      const topic = `${uniquePrefix()}.unannounced`;
      const received: string[] = [];
      await bus.subscribe({ groupId: `${topic}-g`, topics: [topic], batchHandler: async (messages) => void received.push(...messages.map((m) => m.value)) });
      await bus.publish(topic, [{ key: 'k', value: 'announced' }]);
      await waitFor(() => received.length === 1, 'the announced message');
      // Appended as a publish does, but without its notification (as if the notification were lost).
      const partition = partitionOfKey('k', 4);
      await db.transaction(async (trx) => {
        await trx.raw(`UPDATE bus.partitions SET next_offset = next_offset + 2 WHERE topic = ? AND partition = ?`, [topic, partition]);
        await trx.raw(`INSERT INTO bus.messages (topic, partition, "offset", key, value) VALUES (?, ?, 1, 'k', 'silent-1'), (?, ?, 2, 'k', 'silent-2')`, [
          topic,
          partition,
          topic,
          partition,
        ]);
      });
      await db.raw(`SELECT pg_notify('bus_published', ?)`, [JSON.stringify({ t: topic, p: partition, e: '1' })]); // an end already passed: no news
      await waitFor(() => received.length === 3, 'the unannounced messages, found by the tick');
      expect(received).toEqual(['announced', 'silent-1', 'silent-2']);
    });

    it("hands this process's publishes to its consumers without reading them back: the same messages a read gives; another process's are read", async () => {
      const bus = newBus();
      const topic = `${uniquePrefix()}.carried`;
      const fetches: unknown[] = [];
      const countFetches = (query: { sql: string; bindings?: unknown[] }): void => {
        if (/FROM bus\.messages WHERE topic = (\?|\$1)/.test(query.sql) && query.bindings?.[0] === topic) fetches.push(query.bindings);
      };
      db.on('query', countFetches);
      try {
        const received = new Map<string, DeliveredMessage[]>([['g1', []], ['g2', []]]);
        for (const group of received.keys()) {
          await bus.subscribe({ groupId: `${topic}-${group}`, topics: [topic], batchHandler: async (messages) => void received.get(group)?.push(...messages) });
        }
        for (let round = 0; round < 5; round++) {
          await bus.publish(topic, Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, value: `r${round}-${i}`, headers: { 'event-type': 'T', round: String(round) } })));
        }
        await waitFor(() => [...received.values()].every((messages) => messages.length === 15), 'every message in both groups');
        expect(fetches).toEqual([]);
        const { rows } = await db.raw<{ rows: Array<{ partition: number; offset: string; key: string; value: string; headers: Record<string, string> }> }>(
          `SELECT partition, "offset"::text AS offset, key, value, headers FROM bus.messages WHERE topic = ? ORDER BY partition, "offset"`,
          [topic],
        );
        const table = rows.map((row) => ({ topic, ...row }));
        const sorted = (messages: DeliveredMessage[]) => [...messages].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
        for (const messages of received.values()) expect(sorted(messages)).toEqual(table);

        // Published by another process (another pool and bus): read from the table.
        const pool = createKnex(databaseUrl, { min: 0, max: 2 });
        extraPools.push(pool);
        await newBus(pool).publish(topic, [{ key: 'k0', value: 'from-elsewhere' }]);
        await waitFor(() => [...received.values()].every((messages) => messages.length === 16), 'the other process’s message in both groups');
        expect(fetches.length).toBeGreaterThan(0);
        for (const messages of received.values()) expect(messages[15]).toMatchObject({ key: 'k0', value: 'from-elsewhere' });
      } finally {
        db.off('query', countFetches);
      }
    });

    it('fetches only the values of the types a consumer reads (valueTypes); the others are delivered in order, empty, and committed', async () => {
      const bus = newBus();
      const topic = `${uniquePrefix()}.typed`;
      const typed = (value: string, type?: string) => ({ key: 'k', value, ...(type === undefined ? {} : { headers: { 'event-type': type } }) });
      await bus.publish(topic, [typed('big-1', 'Big'), typed('small-1', 'Small'), typed('untyped'), typed('big-2', 'Big'), typed('small-2', 'Small')]);
      const received: DeliveredMessage[] = [];
      const all: string[] = [];
      await bus.subscribe({ groupId: `${topic}-reads-small`, topics: [topic], valueTypes: ['Small'], batchHandler: async (messages) => void received.push(...messages) });
      await bus.subscribe({ groupId: `${topic}-reads-all`, topics: [topic], batchHandler: async (messages) => void all.push(...messages.map((m) => m.value)) });
      await waitFor(() => received.length === 5 && all.length === 5, 'every message, in both groups');
      expect(received.map((m) => [m.offset, m.headers['event-type'] ?? null, m.value])).toEqual([
        ['0', 'Big', ''],
        ['1', 'Small', 'small-1'],
        ['2', null, 'untyped'],
        ['3', 'Big', ''],
        ['4', 'Small', 'small-2'],
      ]);
      expect(all).toEqual(['big-1', 'small-1', 'untyped', 'big-2', 'small-2']);
      // Committed past the skipped values too (the commit follows the handler).
      for (let tries = 0; (await bus.groupLag(`${topic}-reads-small`, [topic])) > 0; tries += 1) {
        if (tries > 250) throw new Error('the group never committed its batch');
        await sleep(20);
      }
    });

    it('reads a bus_published payload: topic, partition and end, or a bare topic; hostile ones are bare topics', () => {
      expect(publishedPayloadOf(JSON.stringify({ t: 'arena.user', p: 2, e: '41' }))).toEqual({ topic: 'arena.user', ends: [{ partition: 2, end: 41n }] });
      expect(publishedPayloadOf('arena.user')).toEqual({ topic: 'arena.user' });
      expect(publishedPayloadOf('{"t":"arena.user","p":-1,"e":"4"}')).toEqual({ topic: '{"t":"arena.user","p":-1,"e":"4"}' });
      expect(publishedPayloadOf('{"t":"arena.user","p":1,"e":"1e3"}').ends).toBeUndefined();
      expect(publishedPayloadOf('{not json').ends).toBeUndefined();
    });

    it('keeps published messages across a restart: a new bus instance delivers them', async () => {
      const topic = `${uniquePrefix()}.durable`;
      await newBus().publish(topic, [{ key: 'a', value: 'survives' }]);
      await Promise.all(buses.splice(0).map((bus) => bus.close()));

      const received: string[] = [];
      await newBus().subscribe({ groupId: `${topic}-g`, topics: [topic], handler: async (m) => void received.push(m.value) });
      await waitFor(() => received.length === 1, 'the message published before the restart');
      expect(received).toEqual(['survives']);
    });

    it('splits a group between processes sharing the database, each message once', async () => {
      const pool = createKnex(databaseUrl, { min: 0, max: 5 });
      extraPools.push(pool);
      const [processA, processB] = [newBus(), newBus(pool)];
      const topic = `${uniquePrefix()}.shared`;
      const seen = new Map<string, DeliveredMessage[]>([['a', []], ['b', []]]);
      const subscribeAs = (name: string, bus: InProcessMessageBus) =>
        bus.subscribe({ groupId: `${topic}-g`, topics: [topic], handler: async (m) => void seen.get(name)?.push(m) });
      await subscribeAs('a', processA);
      await subscribeAs('b', processB);
      // Published by A: B's consumer only learns of it by polling.
      await processA.publish(topic, Array.from({ length: 80 }, (_, i) => ({ key: `stream-${i % 16}`, value: `m${i}` })));

      const all = (): DeliveredMessage[] => [...(seen.get('a') ?? []), ...(seen.get('b') ?? [])];
      await waitFor(() => all().length >= 80, 'all 80 messages');
      await sleep(1000);
      expect(all().map((m) => m.value).sort()).toEqual(Array.from({ length: 80 }, (_, i) => `m${i}`).sort());
      const partitionsOf = (name: string) => new Set((seen.get(name) ?? []).map((m) => m.partition));
      expect(partitionsOf('a').size).toBeGreaterThan(0);
      expect(partitionsOf('b').size).toBeGreaterThan(0);
      expect([...partitionsOf('a')].filter((p) => partitionsOf('b').has(p))).toEqual([]);
    });

    it('takes over the partitions of a member that left', async () => {
      const bus = newBus();
      const topic = `${uniquePrefix()}.takeover`;
      const received: string[] = [];
      const leaving = await bus.subscribe({ groupId: `${topic}-g`, topics: [topic], handler: async () => undefined });
      await bus.subscribe({ groupId: `${topic}-g`, topics: [topic], handler: async (m) => void received.push(m.value) });
      await leaving.stop();
      await bus.publish(topic, Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })));
      await waitFor(() => received.length === 12, 'the remaining member to get every partition');
    });

    it('takes over partitions whose lease expired (a crashed process), not before', async () => {
      const bus = newBus();
      const topic = `${uniquePrefix()}.crash`;
      const groupId = `${topic}-g`;
      await bus.publish(topic, Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })));
      // A member that died holding every partition: its rows stay until they expire.
      const leaseEndsAt = Date.now() + 1500;
      await db.raw(
        `INSERT INTO bus.group_offsets (group_id, topic, partition, committed_offset, lease_owner, lease_expires_at)
         SELECT ?, topic, partition, 0, 'crashed-member', now() + interval '1500 milliseconds' FROM bus.partitions WHERE topic = ?`,
        [groupId, topic],
      );
      await db.raw(`INSERT INTO bus.group_members VALUES (?, 'crashed-member', now() + interval '1500 milliseconds')`, [groupId]);
      const receivedAt: number[] = [];
      await bus.subscribe({ groupId, topics: [topic], handler: async () => void receivedAt.push(Date.now()) });

      await waitFor(() => receivedAt.length === 8, 'every message after the takeover');
      expect(Math.min(...receivedAt)).toBeGreaterThanOrEqual(leaseEndsAt - 100);
    });

    it('ages out messages of topics no group consumes after the retention period', async () => {
      const bus = newBus();
      const topic = `${uniquePrefix()}.unread`;
      // One key: one partition, offsets 0..4.
      await bus.publish(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'one-key', value: `m${i}` })));
      const count = async (): Promise<number> =>
        Number((await db.raw<{ rows: { n: string }[] }>(`SELECT count(*) AS n FROM bus.messages WHERE topic = ?`, [topic])).rows[0].n);
      expect(await bus.trim([topic])).toBe(0);
      await db.raw(`UPDATE bus.messages SET created_at = now() - interval '8 days' WHERE topic = ? AND "offset" < 3`, [topic]);
      expect(await bus.trim([topic])).toBe(3);
      expect(await count()).toBe(2);
    });

    it('trims what every group on the topic has committed, and nothing else', async () => {
      const bus = newBus();
      const topic = `${uniquePrefix()}.trim`;
      await bus.publish(topic, Array.from({ length: 10 }, (_, i) => ({ key: 'one-key', value: `m${i}` })));
      const fast: string[] = [];
      await bus.subscribe({ groupId: `${topic}-fast`, topics: [topic], handler: async (m) => void fast.push(m.value) });
      let unpark: () => void = () => undefined;
      const parked = new Promise<void>((resolve) => (unpark = resolve));
      let slowReachedFour = false;
      await bus.subscribe({
        groupId: `${topic}-slow`,
        topics: [topic],
        handler: async (m) => {
          if (Number(m.offset) < 4) return;
          slowReachedFour = true;
          await parked; // holds the slow group at offset 4 until the test ends
        },
      });
      await waitFor(() => fast.length === 10 && slowReachedFour, 'the fast group done and the slow one parked');
      const count = async (): Promise<number> =>
        Number((await db.raw<{ rows: { n: string }[] }>(`SELECT count(*) AS n FROM bus.messages WHERE topic = ?`, [topic])).rows[0].n);
      try {
        expect(await bus.trim([topic])).toBe(4); // the slow group committed offsets 0..3
        expect(await count()).toBe(6);
        expect(await bus.trim([topic])).toBe(0);
      } finally {
        unpark();
      }
    });

    describe('offset commits of several consumers, grouped', () => {
      /** Offset rows of `groups` on one partition of a fresh topic, each leased to `owner-<group>`. */
      async function leasedOffsets(groups: string[]): Promise<string> {
        const topic = `${uniquePrefix()}.grouped`;
        await db.raw(
          `INSERT INTO bus.group_offsets (group_id, topic, partition, committed_offset, lease_owner, lease_expires_at)
           SELECT g, ?, 0, 0, 'owner-' || g, now() + interval '1 minute' FROM unnest(?::text[]) AS g`,
          [topic, groups],
        );
        return topic;
      }
      const offsetsOf = async (topic: string): Promise<Record<string, string>> =>
        Object.fromEntries(
          (await db.raw<{ rows: { group_id: string; committed_offset: string }[] }>(`SELECT group_id, committed_offset FROM bus.group_offsets WHERE topic = ?`, [topic])).rows.map((row) => [
            row.group_id,
            row.committed_offset,
          ]),
        );
      async function statementsOf<T>(run: () => Promise<T>): Promise<{ result: T; statements: number }> {
        let statements = 0;
        const count = () => statements++;
        db.on('query', count);
        try {
          return { result: await run(), statements };
        } finally {
          db.off('query', count);
        }
      }

      it('asked for together, they are one statement; each caller learns whether its own lease held', async () => {
        const topic = await leasedOffsets(['a', 'b', 'c', 'd']);
        const commits = new InProcessOffsetCommits(db);
        const { result, statements } = await statementsOf(() =>
          Promise.all([
            commits.commit({ groupId: 'a', topic, partition: 0, memberId: 'owner-a', next: 3n }),
            commits.commit({ groupId: 'b', topic, partition: 0, memberId: 'owner-b', next: 5n }),
            commits.commit({ groupId: 'c', topic, partition: 0, memberId: 'someone-else', next: 7n }), // not its lease
            commits.commit({ groupId: 'd', topic, partition: 0, memberId: 'owner-d', next: 1n }),
          ]),
        );
        expect(statements).toBe(1);
        expect(result).toEqual([true, true, false, true]);
        expect(await offsetsOf(topic)).toEqual({ a: '3', b: '5', c: '0', d: '1' });
      });

      it('asked for while one is in flight, they go out together after it, and the furthest offset wins', async () => {
        const topic = await leasedOffsets(['a', 'b']);
        const commits = new InProcessOffsetCommits(db);
        const { result, statements } = await statementsOf(async () => {
          const first = commits.commit({ groupId: 'a', topic, partition: 0, memberId: 'owner-a', next: 1n });
          await new Promise((resolve) => setImmediate(resolve)); // the first statement is on its way
          return Promise.all([
            first,
            commits.commit({ groupId: 'a', topic, partition: 0, memberId: 'owner-a', next: 2n }),
            commits.commit({ groupId: 'b', topic, partition: 0, memberId: 'owner-b', next: 4n }),
            commits.commit({ groupId: 'a', topic, partition: 0, memberId: 'owner-a', next: 3n }),
          ]);
        });
        expect(result).toEqual([true, true, true, true]);
        expect(statements).toBe(2);
        expect(await offsetsOf(topic)).toEqual({ a: '3', b: '4' });
      });

      it('a failed statement fails every commit it carried, and the next ones still go out', async () => {
        const topic = await leasedOffsets(['a']);
        const commits = new InProcessOffsetCommits(db);
        // An offset the column cannot hold fails the statement (and every commit in it).
        await expect(commits.commit({ groupId: 'a', topic, partition: 0, memberId: 'owner-a', next: 2n ** 70n })).rejects.toThrow(/out of range/);
        await expect(commits.commit({ groupId: 'a', topic, partition: 0, memberId: 'owner-a', next: 6n })).resolves.toBe(true);
        expect(await offsetsOf(topic)).toEqual({ a: '6' });
      });

      it("a publish handled by several groups at once commits each group's offset: a restarted bus delivers nothing again", async () => {
        const topic = `${uniquePrefix()}.fanout`;
        const groups = ['g1', 'g2', 'g3', 'g4'].map((g) => `${topic}-${g}`);
        const bus = newBus();
        const seen = new Map<string, number>();
        for (const groupId of groups) await bus.subscribe({ groupId, topics: [topic], batchHandler: async (messages) => void seen.set(groupId, (seen.get(groupId) ?? 0) + messages.length) });
        for (let i = 0; i < 5; i++) await bus.publish(topic, [{ key: 'k', value: `m${i}` }]);
        await waitFor(() => groups.every((groupId) => seen.get(groupId) === 5), 'every group handled the five messages');
        const committedFive = async () =>
          Number((await db.raw<{ rows: { n: string }[] }>(`SELECT count(*) AS n FROM bus.group_offsets WHERE topic = ? AND committed_offset = 5`, [topic])).rows[0].n);
        for (let tries = 0; (await committedFive()) < groups.length; tries++) {
          if (tries > 250) throw new Error('not every group committed offset 5');
          await sleep(20);
        }
        await bus.close();
        const again = newBus();
        const redelivered: string[] = [];
        for (const groupId of groups) await again.subscribe({ groupId, topics: [topic], batchHandler: async (messages) => void redelivered.push(...messages.map((m) => m.value)) });
        await again.publish(topic, [{ key: 'k', value: 'after' }]);
        await waitFor(() => redelivered.length === groups.length, 'the new message, once per group');
        expect(redelivered).toEqual(groups.map(() => 'after'));
      });
    });
  });
});
