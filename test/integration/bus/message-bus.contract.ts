/**
 * The MessageBus contract: every adapter runs this suite (kafka-bus.test.ts, in-process-bus.test.ts).
 * Each test gets a fresh bus and a unique topic prefix, names its own topics and groups, waits with
 * bounded polls, and the bus is closed afterwards (which stops its consumers) so jest exits.
 */
import { createHash } from 'node:crypto';
import {
  DEAD_LETTER_HEADERS,
  defaultDeadLetterTopic,
  type Consumer,
  type ConsumerOptions,
  type DeliveredMessage,
  type MessageBus,
} from '../../../src/infrastructure/bus/message-bus';

export interface BusUnderTest {
  bus: MessageBus;
  /** Unique per test; topic and group names start with it. */
  topicPrefix: string;
}

/** How long to wait for something that should happen (a Kafka group join takes a second or two). */
const WAIT_MS = 25_000;
/** How long to keep watching for something that must not happen (a duplicate, an old message). */
const SETTLE_MS = 1_500;

export async function waitFor(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A handler that records what it received. */
function recorder(): { received: DeliveredMessage[]; handler: (message: DeliveredMessage) => Promise<void>; values(): string[] } {
  const received: DeliveredMessage[] = [];
  return {
    received,
    handler: async (message) => {
      received.push(message);
    },
    values: () => received.map((message) => message.value),
  };
}

export function messageBusContract(name: string, createBus: () => Promise<BusUnderTest>): void {
  describe(`MessageBus contract: ${name}`, () => {
    let bus: MessageBus;
    let prefix: string;
    const topic = (label: string): string => `${prefix}.${label}`;
    const group = (label: string): string => `${prefix}-${label}`;
    const subscribe = (options: ConsumerOptions): Promise<Consumer> => bus.subscribe(options);

    beforeEach(async () => {
      ({ bus, topicPrefix: prefix } = await createBus());
    });

    afterEach(async () => {
      await bus.close();
    });

    it('forgets an ephemeral group when its last member stops, but resumes a durable one', async () => {
      const events = topic('ephemeral');
      await bus.ensureTopics([events]);
      await bus.publish(events, [1, 2, 3].map((n) => ({ key: `k${n}`, value: `m${n}` })));
      for (const ephemeral of [true, false]) {
        const label = ephemeral ? 'eph' : 'durable';
        const first = recorder();
        const consumer = await subscribe({ groupId: group(label), topics: [events], ephemeral, handler: first.handler });
        await waitFor(() => first.received.length === 3, `${label}: first pass`);
        await consumer.stop();
        const second = recorder();
        const again = await subscribe({ groupId: group(label), topics: [events], ephemeral, handler: second.handler });
        if (ephemeral) {
          await waitFor(() => second.received.length === 3, 'the ephemeral group to start over');
        } else {
          await sleep(SETTLE_MS);
          expect(second.received).toHaveLength(0);
        }
        await again.stop();
      }
    });

    it('answers ping', async () => {
      await expect(bus.ping()).resolves.toBeUndefined();
    });

    it('delivers a published message with its key, value, headers, partition and offset', async () => {
      const orders = topic('orders');
      await bus.ensureTopics([orders]);
      await bus.publish(orders, [{ key: 'order-1', value: '{"total":42}', headers: { 'x-trace': 'abc' } }]);
      const seen = recorder();
      await subscribe({ groupId: group('g'), topics: [orders], handler: seen.handler });

      await waitFor(() => seen.received.length === 1, 'the message');
      const [message] = seen.received;
      expect(message).toMatchObject({ topic: orders, key: 'order-1', value: '{"total":42}' });
      expect(message.headers['x-trace']).toBe('abc');
      expect(Number.isInteger(message.partition) && message.partition >= 0).toBe(true);
      expect(message.offset).toMatch(/^\d+$/);
    });

    it('keeps the order of each key across many messages and publishes', async () => {
      const events = topic('events');
      await bus.ensureTopics([events]);
      const keys = ['stream-a', 'stream-b', 'stream-c', 'stream-d', 'stream-e'];
      const perKey = 40;
      for (let round = 0; round < 4; round++) {
        const batch = [];
        for (let i = round * (perKey / 4); i < (round + 1) * (perKey / 4); i++) {
          for (const key of keys) batch.push({ key, value: JSON.stringify({ key, seq: i }) });
        }
        await bus.publish(events, batch);
      }
      const seen = recorder();
      await subscribe({ groupId: group('g'), topics: [events], handler: seen.handler });

      await waitFor(() => seen.received.length === keys.length * perKey, 'every message');
      for (const key of keys) {
        const seqs = seen.received.filter((m) => m.key === key).map((m) => (JSON.parse(m.value) as { seq: number }).seq);
        expect(seqs).toEqual(Array.from({ length: perKey }, (_, i) => i));
        const partitions = new Set(seen.received.filter((m) => m.key === key).map((m) => m.partition));
        expect(partitions.size).toBe(1);
      }
      const byPartition = new Map<number, bigint[]>();
      for (const m of seen.received) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), BigInt(m.offset)]);
      for (const offsets of byPartition.values()) {
        expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    });

    it('gives every consumer group every message', async () => {
      const events = topic('events');
      await bus.ensureTopics([events]);
      const [first, second] = [recorder(), recorder()];
      await subscribe({ groupId: group('first'), topics: [events], handler: first.handler });
      await subscribe({ groupId: group('second'), topics: [events], handler: second.handler });
      const published = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 3}`, value: `m${i}` }));
      await bus.publish(events, published);

      await waitFor(() => first.received.length >= 20 && second.received.length >= 20, 'both groups');
      await sleep(SETTLE_MS);
      expect(first.values().sort()).toEqual(published.map((m) => m.value).sort());
      expect(second.values().sort()).toEqual(published.map((m) => m.value).sort());
    });

    it('splits partitions between two members of one group: each message handled once', async () => {
      const events = topic('events');
      await bus.ensureTopics([events]);
      const [memberA, memberB] = [recorder(), recorder()];
      await subscribe({ groupId: group('shared'), topics: [events], handler: memberA.handler });
      await subscribe({ groupId: group('shared'), topics: [events], handler: memberB.handler });
      const published = Array.from({ length: 64 }, (_, i) => ({ key: `stream-${i % 16}`, value: `m${i}` }));
      await bus.publish(events, published);

      const total = (): number => memberA.received.length + memberB.received.length;
      await waitFor(() => total() >= published.length, 'all messages across the group');
      await sleep(SETTLE_MS);
      const handled = [...memberA.values(), ...memberB.values()];
      expect(handled.sort()).toEqual(published.map((m) => m.value).sort());
      expect(memberA.received.length).toBeGreaterThan(0);
      expect(memberB.received.length).toBeGreaterThan(0);
    });

    it('redelivers a message whose handler failed, and commits it once the handler succeeds', async () => {
      const jobs = topic('jobs');
      await bus.ensureTopics([jobs]);
      await bus.publish(jobs, [{ key: 'job-1', value: 'flaky' }]);
      const attempts: DeliveredMessage[] = [];
      const consumer = await subscribe({
        groupId: group('workers'),
        topics: [jobs],
        retryBackoffMs: 10,
        handler: async (message) => {
          attempts.push(message);
          if (attempts.length <= 2) throw new Error(`transient failure ${attempts.length}`);
        },
      });
      await waitFor(() => attempts.length === 3, 'the third attempt');
      expect(new Set(attempts.map((m) => `${m.partition}/${m.offset}/${m.value}`)).size).toBe(1);
      await consumer.stop();

      await bus.publish(jobs, [{ key: 'job-1', value: 'after' }]);
      const resumed = recorder();
      await subscribe({ groupId: group('workers'), topics: [jobs], handler: resumed.handler });
      await waitFor(() => resumed.received.length >= 1, 'the message published after the commit');
      await sleep(SETTLE_MS);
      expect(resumed.values()).toEqual(['after']);
      expect(attempts).toHaveLength(3);
    });

    it('resumes a group after its last committed offset: no redelivery, no loss', async () => {
      const events = topic('events');
      await bus.ensureTopics([events]);
      const published = Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 4}`, value: `m${i}` }));
      await bus.publish(events, published);
      const before: string[] = [];
      const consumer = await subscribe({
        groupId: group('resumable'),
        topics: [events],
        handler: async (message) => {
          await sleep(15);
          before.push(message.value);
        },
      });
      await waitFor(() => before.length >= 10, 'some of the messages');
      await consumer.stop();
      const handledBeforeStop = before.length;
      expect(handledBeforeStop).toBeLessThan(published.length);

      const after = recorder();
      await subscribe({ groupId: group('resumable'), topics: [events], handler: after.handler });
      await waitFor(() => handledBeforeStop + after.received.length >= published.length, 'the rest');
      await sleep(SETTLE_MS);
      expect(before).toHaveLength(handledBeforeStop); // nothing ran after stop() resolved
      expect([...before, ...after.values()].sort()).toEqual(published.map((m) => m.value).sort());
    });

    it('lets stop() wait for the running handler and commits its message', async () => {
      const jobs = topic('jobs');
      await bus.ensureTopics([jobs]);
      await bus.publish(jobs, [{ key: 'job', value: 'slow' }]);
      let started = false;
      let finished = false;
      const consumer = await subscribe({
        groupId: group('slow'),
        topics: [jobs],
        handler: async () => {
          started = true;
          await sleep(500);
          finished = true;
        },
      });
      await waitFor(() => started, 'the handler to start');
      await consumer.stop();
      expect(finished).toBe(true);

      await bus.publish(jobs, [{ key: 'job', value: 'next' }]);
      const resumed = recorder();
      await subscribe({ groupId: group('slow'), topics: [jobs], handler: resumed.handler });
      await waitFor(() => resumed.received.length >= 1, 'the next message');
      await sleep(SETTLE_MS);
      expect(resumed.values()).toEqual(['next']);
    });

    it('dead-letters a message after maxAttempts failures and goes on with the next one', async () => {
      const jobs = topic('jobs');
      await bus.ensureTopics([jobs]);
      await bus.publish(jobs, [
        { key: 'job', value: 'poison', headers: { 'x-origin': 'test' } },
        { key: 'job', value: 'healthy' },
      ]);
      const poisonAttempts: DeliveredMessage[] = [];
      const handled = recorder();
      await subscribe({
        groupId: group('workers'),
        topics: [jobs],
        maxAttempts: 3,
        retryBackoffMs: 10,
        handler: async (message) => {
          if (message.value === 'poison') {
            poisonAttempts.push(message);
            throw new Error('cannot digest poison');
          }
          await handled.handler(message);
        },
      });
      const deadLetters = recorder();
      await subscribe({ groupId: group('dlq-reader'), topics: [defaultDeadLetterTopic(jobs)], handler: deadLetters.handler });

      await waitFor(() => handled.received.length === 1 && deadLetters.received.length === 1, 'the next message and the dead letter');
      expect(handled.values()).toEqual(['healthy']);
      expect(poisonAttempts).toHaveLength(3);
      const [dead] = deadLetters.received;
      expect(dead).toMatchObject({ topic: defaultDeadLetterTopic(jobs), key: 'job', value: 'poison' });
      expect(dead.headers).toMatchObject({
        'x-origin': 'test',
        [DEAD_LETTER_HEADERS.originalTopic]: jobs,
        [DEAD_LETTER_HEADERS.originalPartition]: String(poisonAttempts[0].partition),
        [DEAD_LETTER_HEADERS.originalOffset]: poisonAttempts[0].offset,
        [DEAD_LETTER_HEADERS.attempts]: '3',
      });
      expect(dead.headers[DEAD_LETTER_HEADERS.error]).toContain('cannot digest poison');
      await sleep(SETTLE_MS);
      expect(poisonAttempts).toHaveLength(3); // committed: not retried again
    });

    it('starts a new group with fromBeginning false after the messages already there', async () => {
      const events = topic('events');
      await bus.ensureTopics([events]);
      await bus.publish(events, ['a', 'b', 'c', 'd'].map((k) => ({ key: k, value: `old-${k}` })));
      const seen = recorder();
      await subscribe({ groupId: group('late'), topics: [events], fromBeginning: false, handler: seen.handler });
      await bus.publish(events, ['a', 'b', 'c', 'd'].map((k) => ({ key: k, value: `new-${k}` })));

      await waitFor(() => seen.received.length >= 4, 'the new messages');
      await sleep(SETTLE_MS);
      expect(seen.values().sort()).toEqual(['new-a', 'new-b', 'new-c', 'new-d']);
    });

    it('round-trips a 2 MiB message', async () => {
      const telemetry = topic('telemetry');
      await bus.ensureTopics([telemetry]);
      const chunk = JSON.stringify({ speed: [1.5, 2.25, 3.125], rpm: [7000, 7100, 7250] });
      const value = chunk.repeat(Math.ceil((2 * 1024 * 1024) / chunk.length));
      await bus.publish(telemetry, [{ key: 'session-1', value }, { key: 'session-1', value: 'small' }]);
      const seen = recorder();
      await subscribe({ groupId: group('g'), topics: [telemetry], handler: seen.handler });

      await waitFor(() => seen.received.length === 2, 'the large message');
      const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
      expect(seen.received[0].value.length).toBe(value.length);
      expect(sha(seen.received[0].value)).toBe(sha(value));
      expect(seen.received[1].value).toBe('small');
    });

    it('creates topics idempotently, keeping what was published', async () => {
      const [first, second] = [topic('first'), topic('second')];
      await bus.ensureTopics([first, second]);
      await bus.publish(first, [{ key: 'k', value: 'kept' }]);
      await bus.ensureTopics([first, second]);
      await Promise.all([bus.ensureTopics([first]), bus.ensureTopics([first, second])]);
      const seen = recorder();
      await subscribe({ groupId: group('g'), topics: [first, second], handler: seen.handler });
      await bus.publish(second, [{ key: 'k', value: 'second' }]);

      await waitFor(() => seen.received.length >= 2, 'a message from each topic');
      await sleep(SETTLE_MS);
      expect(seen.received.map((m) => `${m.topic}:${m.value}`).sort()).toEqual([`${first}:kept`, `${second}:second`]);
    });

    describe('batch consumers', () => {
      /** Records every batch the handler resolved for (a batch that throws is not recorded). */
      function batchRecorder(fails: (messages: DeliveredMessage[]) => boolean = () => false) {
        const batches: DeliveredMessage[][] = [];
        const calls: string[][] = [];
        return {
          batches,
          calls,
          handled: () => batches.flat(),
          batchHandler: async (messages: DeliveredMessage[]): Promise<void> => {
            calls.push(messages.map((m) => m.value));
            if (fails(messages)) throw new Error('this batch cannot be handled');
            batches.push(messages);
          },
        };
      }
      const offsetsOf = (messages: DeliveredMessage[]): bigint[] => messages.map((m) => BigInt(m.offset));

      it('hands over the ready messages of a partition together, in order, and commits them', async () => {
        const events = topic('batched');
        await bus.ensureTopics([events]);
        const values = Array.from({ length: 30 }, (_, i) => `m${i}`);
        await bus.publish(events, values.map((value) => ({ key: 'stream-1', value })));
        const seen = batchRecorder();
        const consumer = await subscribe({ groupId: group('g'), topics: [events], batchHandler: seen.batchHandler });

        await waitFor(() => seen.handled().length === values.length, 'every message');
        expect(seen.handled().map((m) => m.value)).toEqual(values);
        expect(Math.max(...seen.batches.map((batch) => batch.length))).toBeGreaterThan(1);
        for (const batch of seen.batches) {
          expect(batch.length).toBeGreaterThan(0);
          expect(new Set(batch.map((m) => `${m.topic}/${m.partition}`)).size).toBe(1);
          const offsets = offsetsOf(batch);
          offsets.forEach((offset, i) => i > 0 && expect(offset).toBe(offsets[i - 1] + 1n));
        }
        await consumer.stop();

        // Committed: the group resumes after the last batch and gets only what is new.
        const again = batchRecorder();
        await subscribe({ groupId: group('g'), topics: [events], batchHandler: again.batchHandler });
        await bus.publish(events, [{ key: 'stream-1', value: 'new' }]);
        await waitFor(() => again.handled().length >= 1, 'the new message');
        await sleep(SETTLE_MS);
        expect(again.handled().map((m) => m.value)).toEqual(['new']);
      });

      it('publishes several topics in one call', async () => {
        const [left, right] = [topic('left'), topic('right')];
        await bus.ensureTopics([left, right]);
        await bus.publishAll([
          { topic: left, messages: [{ key: 'a', value: 'l1' }, { key: 'a', value: 'l2' }] },
          { topic: right, messages: [{ key: 'b', value: 'r1' }] },
          { topic: right, messages: [] },
        ]);
        const seen = recorder();
        await subscribe({ groupId: group('g'), topics: [left, right], handler: seen.handler });
        await waitFor(() => seen.received.length === 3, 'the three messages');
        expect(seen.received.map((m) => `${m.topic}:${m.value}`).sort()).toEqual([`${left}:l1`, `${left}:l2`, `${right}:r1`]);
      });

      it('delivers a failed batch one message at a time: the poison one is dead-lettered, every other handled once', async () => {
        const jobs = topic('batch-jobs');
        await bus.ensureTopics([jobs]);
        const values = ['a', 'b', 'c', 'poison', 'd', 'e'];
        await bus.publish(jobs, values.map((value) => ({ key: 'job', value })));
        const seen = batchRecorder((messages) => messages.some((m) => m.value === 'poison'));
        await subscribe({ groupId: group('workers'), topics: [jobs], maxAttempts: 2, retryBackoffMs: 10, batchHandler: seen.batchHandler });
        const deadLetters = recorder();
        await subscribe({ groupId: group('dlq-reader'), topics: [defaultDeadLetterTopic(jobs)], handler: deadLetters.handler });

        await waitFor(() => seen.handled().length === 5 && deadLetters.received.length === 1, 'the healthy messages and the dead letter');
        await sleep(SETTLE_MS);
        expect(seen.handled().map((m) => m.value)).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(deadLetters.values()).toEqual(['poison']);
        // The poison message alone was tried maxAttempts times after its batch failed.
        expect(seen.calls.filter((call) => call.length === 1 && call[0] === 'poison')).toHaveLength(2);
      });

      it('redelivers from the first uncommitted message when a consumer stops inside a failed batch (partial redelivery)', async () => {
        const events = topic('partial');
        await bus.ensureTopics([events]);
        const values = Array.from({ length: 10 }, (_, i) => `m${i}`);
        await bus.publish(events, values.map((value) => ({ key: 'stream-1', value })));
        // m6 fails for the first member every time: its batch is split and m0..m5 are committed one by one.
        const first = batchRecorder((messages) => messages.some((m) => m.value === 'm6'));
        const consumer = await subscribe({ groupId: group('g'), topics: [events], maxAttempts: 1_000, retryBackoffMs: 50, batchHandler: first.batchHandler });
        await waitFor(() => first.calls.filter((call) => call.length === 1 && call[0] === 'm6').length >= 2, 'm6 retried alone');
        await consumer.stop();
        expect(first.handled().map((m) => m.value)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);

        const second = batchRecorder();
        await subscribe({ groupId: group('g'), topics: [events], batchHandler: second.batchHandler });
        await waitFor(() => second.handled().length >= 4, 'the rest');
        await sleep(SETTLE_MS);
        // Nothing lost, nothing committed handed out again: the second member starts at m6.
        expect(second.handled().map((m) => m.value)).toEqual(['m6', 'm7', 'm8', 'm9']);
      });

      it('refuses a consumer with both or neither of handler and batchHandler', async () => {
        const events = topic('either');
        await bus.ensureTopics([events]);
        const handler = async (): Promise<void> => undefined;
        await expect(subscribe({ groupId: group('both'), topics: [events], handler, batchHandler: handler })).rejects.toThrow(/exactly one/);
        await expect(subscribe({ groupId: group('neither'), topics: [events] })).rejects.toThrow(/exactly one/);
      });
    });
  });
}
