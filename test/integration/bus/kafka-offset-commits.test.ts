/**
 * Offset commits of the Kafka adapter (kafka-offset-commits.ts): a member writes the offsets it
 * handled in one OffsetCommit request per interval instead of one per batch or message, writes
 * what is pending when it stops, and never records an offset whose handler did not resolve. Runs
 * on the shared broker (KAFKA_BROKERS); the requests are counted on the client's own sockets.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaMessageBus } from '../../../src/infrastructure/bus/kafka-bus';
import type { DeliveredMessage } from '../../../src/infrastructure/bus/message-bus';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { describeWithEngine } from '../../support/engines';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
const OFFSET_COMMIT_API_KEY = 8;

/** Plain TCP to the broker, counting the requests the client writes by API key (kafkajs writes one whole request per write). */
function countingSockets(): { socketFactory: ISocketFactory; sent: (apiKey: number) => number } {
  const counts = new Map<number, number>();
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (chunk: Buffer | string, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (bytes.length >= 6) counts.set(bytes.readInt16BE(4), (counts.get(bytes.readInt16BE(4)) ?? 0) + 1);
      return write(chunk, ...rest);
    }) as typeof socket.write;
    return socket;
  };
  return { socketFactory, sent: (apiKey) => counts.get(apiKey) ?? 0 };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeWithEngine('kafka', brokers.length > 0, 'KAFKA_BROKERS not set')('KafkaMessageBus offset commits', () => {
  const logger = createLogger({ name: 'kafka-offset-commits-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const prefix = `commits-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const admin = new Kafka({ clientId: 'kafka-offset-commits-reader', brokers, logLevel: logLevel.NOTHING }).admin();
  const buses: KafkaMessageBus[] = [];

  beforeAll(() => admin.connect());

  afterAll(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()));
    await admin.disconnect();
  });

  function newBus(commitIntervalMs: number, socketFactory?: ISocketFactory): KafkaMessageBus {
    const bus = new KafkaMessageBus({ brokers, logger, clientId: 'kafka-offset-commits-test', partitions: 1, heartbeatIntervalMs: 500, commitIntervalMs, ...(socketFactory ? { socketFactory } : {}) });
    buses.push(bus);
    return bus;
  }

  async function committedOffset(groupId: string, topic: string): Promise<string> {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return committed?.partitions[0]?.offset ?? '-1';
  }

  it('writes the offsets of many handled messages in one commit when the member stops, and the group resumes after them', async () => {
    const topic = `${prefix}.one-by-one`;
    const groupId = `${prefix}-one-by-one`;
    const counted = countingSockets();
    const bus = newBus(60_000, counted.socketFactory);
    await bus.ensureTopics([topic]);
    const handled: string[] = [];
    const consumer = await bus.subscribe({ groupId, topics: [topic], handler: async (message) => void handled.push(message.value) });

    // Published one at a time, each handled before the next is sent: one batch each.
    for (let i = 0; i < 20; i++) {
      await bus.publish(topic, [{ key: 'stream-1', value: `m${i}` }]);
      await waitFor(() => handled.length === i + 1, `message ${i}`);
    }
    expect(counted.sent(OFFSET_COMMIT_API_KEY)).toBe(0);
    expect(await committedOffset(groupId, topic)).toBe('-1');

    await consumer.stop();
    expect(counted.sent(OFFSET_COMMIT_API_KEY)).toBe(1);
    expect(await committedOffset(groupId, topic)).toBe('20');

    const again: string[] = [];
    await newBus(0).subscribe({ groupId, topics: [topic], handler: async (message) => void again.push(message.value) });
    await bus.publish(topic, [{ key: 'stream-1', value: 'new' }]);
    await waitFor(() => again.length >= 1, 'the new message');
    expect(again).toEqual(['new']);
  });

  it('commits what it handled within the interval while it keeps running', async () => {
    const topic = `${prefix}.running`;
    const groupId = `${prefix}-running`;
    const bus = newBus(200);
    await bus.ensureTopics([topic]);
    const handled: DeliveredMessage[] = [];
    await bus.subscribe({ groupId, topics: [topic], batchHandler: async (messages) => void handled.push(...messages) });
    await bus.publish(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'stream-1', value: `m${i}` })));
    await waitFor(() => handled.length === 5, 'every message');

    let committed = await committedOffset(groupId, topic);
    const deadline = Date.now() + 30_000;
    while (committed !== '5' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      committed = await committedOffset(groupId, topic);
    }
    expect(committed).toBe('5');
  });

  it('commits only messages whose handler resolved: a handler still running holds the commit at the message before it', async () => {
    const topic = `${prefix}.unfinished`;
    const groupId = `${prefix}-unfinished`;
    const bus = newBus(100);
    await bus.ensureTopics([topic]);
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    const consumer = await bus.subscribe({
      groupId,
      topics: [topic],
      handler: async (message) => {
        seen.push(message.value);
        if (message.value === 'm2') await blocked;
      },
    });
    await bus.publish(topic, ['m0', 'm1', 'm2', 'm3'].map((value) => ({ key: 'stream-1', value })));
    await waitFor(() => seen.includes('m2'), 'm2 in its handler');
    let committed = await committedOffset(groupId, topic);
    const deadline = Date.now() + 30_000;
    while (committed !== '2' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      committed = await committedOffset(groupId, topic);
    }
    expect(committed).toBe('2');
    // Several intervals later, still at m2: its handler has not resolved.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await committedOffset(groupId, topic)).toBe('2');
    expect(seen).toEqual(['m0', 'm1', 'm2']);

    release();
    await consumer.stop();
    expect(await committedOffset(groupId, topic)).toBe('3');
  });
});
