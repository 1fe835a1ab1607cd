/**
 * kafkajs' request queue without its idle timer loop (kafka-request-queue.ts): an open connection
 * with nothing waiting arms no timer (kafkajs 2.2.4 re-armed a 1 ms timer forever, ~1 000 wake-ups a
 * second per connection), and requests held back by the in-flight limit are still all sent. Runs
 * on the shared broker (KAFKA_BROKERS).
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { KafkaMessageBus } from '../../../src/infrastructure/bus/kafka-bus';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { describeWithEngine } from '../../support/engines';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);

interface RequestQueuePrototype {
  checkPendingRequests(this: unknown): void;
}

// kafkajs' internal class, the one every connection's queue is made from.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueuePrototype };

/** Calls of checkPendingRequests on every connection of this process (what the timer loop ran). */
function countPendingChecks(): { calls: () => number; restore: () => void } {
  const original = RequestQueue.prototype.checkPendingRequests;
  let calls = 0;
  RequestQueue.prototype.checkPendingRequests = function (this: unknown) {
    calls++;
    original.call(this);
  };
  return { calls: () => calls, restore: () => (RequestQueue.prototype.checkPendingRequests = original) };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeWithEngine('kafka', brokers.length > 0, 'KAFKA_BROKERS not set')('kafkajs request queue without the idle timer loop', () => {
  const logger = createLogger({ name: 'kafka-request-queue-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const prefix = `queue-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const bus = new KafkaMessageBus({ brokers, logger, clientId: 'kafka-request-queue-test', partitions: 1, groupNamespace: `${prefix}.` });

  afterAll(() => bus.close());

  it('arms no timer on idle connections: checks of the pending queue follow answers, not a 1 ms loop', async () => {
    const topic = `${prefix}.idle`;
    const handled: string[] = [];
    await bus.subscribe({ groupId: 'idle-a', topics: [topic], handler: async (message) => void handled.push(message.value) });
    await bus.subscribe({ groupId: 'idle-b', topics: [topic], handler: async () => undefined });
    await bus.publish(topic, [{ key: 'k', value: 'one' }]);
    await waitFor(() => handled.length === 1, 'the message');

    // Idle now: two consumers (coordinator and leader connections each), the producer and the admin.
    const counter = countPendingChecks();
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // Each answer (long-poll fetches once a second per consumer, heartbeats) checks the queue once;
      // the loop of kafkajs 2.2.4 made ~1 000 checks a second per open connection.
      expect(counter.calls()).toBeLessThan(60);
    } finally {
      counter.restore();
    }
  });

  it('still sends every request held back by the in-flight limit', async () => {
    const topic = `${prefix}.held-back`;
    await bus.ensureTopics([topic]);
    const kafka = new Kafka({ clientId: 'kafka-request-queue-producer', brokers, logLevel: logLevel.NOTHING });
    // One request in flight per connection: the other sends wait in the queue's `pending`.
    const producer = kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const received: string[] = [];
    try {
      await bus.subscribe({ groupId: 'held-back', topics: [topic], handler: async (message) => void received.push(message.value) });
      const values = Array.from({ length: 30 }, (_, i) => `m${i}`);
      await Promise.all(values.map((value) => producer.send({ topic, acks: -1, messages: [{ key: 'k', value }] })));
      await waitFor(() => received.length === values.length, 'all 30 messages');
      expect(new Set(received)).toEqual(new Set(values));
    } finally {
      await producer.disconnect();
    }
  });
});
