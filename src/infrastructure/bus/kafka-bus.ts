/**
 * MessageBus on Apache Kafka through kafkajs. Semantics are the port's (message-bus.ts); the
 * Kafka-specific choices are explained where they are made. docs/bus.md has the overview.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import type { ISocketFactory, LogEntry, Producer, RetryOptions } from 'kafkajs';
import { UnavailableError } from '../../domain/shared/errors';
import type { Logger } from '../logging/logger';
import type { ConsumerFailedError, ConsumerStatus } from './consumer-status';
import { errorText, retryPolicyOf } from './delivery';
import { useRequestQueueWithoutIdleTimer } from './kafka-request-queue';
import { KafkaSubscription } from './kafka-subscription';
import type { Consumer, ConsumerOptions, MessageBus, OutgoingMessage, TopicMessages } from './message-bus';

/** Telemetry batches travel as one message each; deploy/kafka sets the broker to the same limit. */
export const KAFKA_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** One produce request stays well under the broker's message.max.bytes (a batch counts as one message). */
const MAX_SEND_BYTES = 4 * 1024 * 1024;

export interface KafkaMessageBusOptions {
  brokers: string[];
  logger: Logger;
  /** Prepended to every consumer group id (see MessageBus namespacing). Default ''. */
  groupNamespace?: string;
  clientId?: string;
  /** Partitions of topics this bus creates; default: the broker's num.partitions. */
  partitions?: number;
  /** Lower = members joining or leaving a group rebalance sooner. Default 1000 ms. */
  heartbeatIntervalMs?: number;
  /**
   * How long the broker waits for a silent member (e.g. a SIGKILLed process) before it hands its
   * partitions to the others. Default 6000 ms, the broker's default minimum (group.min.session.timeout.ms).
   */
  sessionTimeoutMs?: number;
  /** A consumer that shows no sign of life this long makes the process fail (onConsumerFailed). Default 120 s. */
  consumerRecoveryTimeoutMs?: number;
  /** First delay before a crashed consumer is recreated; doubles up to 10 s. Default 500 ms. */
  consumerRestartBackoffMs?: number;
  /** Called once per consumer that could not recover within consumerRecoveryTimeoutMs. */
  onConsumerFailed?: (error: ConsumerFailedError) => void;
  /** Partitions one consumer handles at the same time (order stays per partition). Default 1. */
  partitionsConsumedConcurrently?: number;
  /** How long `subscribe` waits for the group join. Default 30 s. */
  joinTimeoutMs?: number;
  /** kafkajs' retries of one request before it fails (default kafkajs': 5, about 10 s in all). */
  retry?: RetryOptions;
  /** How connections to the brokers are opened (default: plain TCP without Nagle's delay). Tests put a faulty link here. */
  socketFactory?: ISocketFactory;
  /**
   * A group member commits the offsets it handled together, at most this long after the first of
   * them, instead of one OffsetCommit per batch (kafka-offset-commits.ts). 0: every batch at once.
   * Default DEFAULT_KAFKA_COMMIT_INTERVAL_MS.
   */
  commitIntervalMs?: number;
}

export const DEFAULT_KAFKA_SESSION_TIMEOUT_MS = 6_000;
export const DEFAULT_KAFKA_HEARTBEAT_INTERVAL_MS = 1_000;
export const DEFAULT_CONSUMER_RECOVERY_TIMEOUT_MS = 120_000;
export const DEFAULT_KAFKA_COMMIT_INTERVAL_MS = 500;
const ENSURE_TOPICS_TIMEOUT_MS = 30_000;

/** kafkajs marks protocol errors a later attempt may not meet again (leader election, metadata lag). */
function isRetriableKafkaError(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = (cause as Error & { cause?: unknown }).cause) {
    if ((cause as Error & { retriable?: boolean }).retriable === true) return true;
  }
  return false;
}

export class KafkaMessageBus implements MessageBus {
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private producer?: Promise<Producer>;
  private admin?: Promise<Admin>;
  private readonly knownTopics = new Set<string>();
  private readonly subscriptions = new Set<KafkaSubscription>();

  constructor(private readonly options: KafkaMessageBusOptions) {
    this.logger = options.logger.child({ component: 'kafka-bus' });
    // kafkajs 2.2.4 runs a 1 ms timer per open connection otherwise (kafka-request-queue.ts).
    useRequestQueueWithoutIdleTimer();
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'lapxcel-arena',
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(this.logger),
      ...(options.retry ? { retry: options.retry } : {}),
      socketFactory: options.socketFactory ?? tcpWithoutDelay,
    });
  }

  /**
   * A broker that has just started, or a topic just created, can answer metadata requests with
   * retriable errors for a moment ("This server does not host this topic-partition" while the
   * leaders are elected): those attempts are retried with backoff for up to 30 s.
   */
  async ensureTopics(topics: string[]): Promise<void> {
    const deadline = Date.now() + ENSURE_TOPICS_TIMEOUT_MS;
    for (let delayMs = 200; ; delayMs = Math.min(delayMs * 2, 3_000)) {
      try {
        await this.createMissingTopics(topics);
        break;
      } catch (error) {
        if (!isRetriableKafkaError(error) || Date.now() + delayMs > deadline) throw error;
        this.logger.warn({ error: errorText(error) }, 'topics not ready yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    for (const topic of topics) this.knownTopics.add(topic);
  }

  private async createMissingTopics(topics: string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    // Resolves false (no throw) when a concurrent creator won the race: that is success here.
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: this.options.partitions ?? -1,
        // Per topic, so a production broker with the 1 MiB default still accepts telemetry batches.
        configEntries: [{ name: 'max.message.bytes', value: String(KAFKA_MAX_MESSAGE_BYTES) }],
      })),
    });
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.publishAll([{ topic, messages }]);
  }

  /** One produce request (sendBatch) per size chunk across all topics. */
  async publishAll(batches: TopicMessages[]): Promise<void> {
    const nonEmpty = batches.filter((batch) => batch.messages.length > 0);
    if (nonEmpty.length === 0) return;
    const topics = nonEmpty.map((batch) => batch.topic);
    try {
      const missing = topics.filter((topic) => !this.knownTopics.has(topic));
      if (missing.length > 0) await this.ensureTopics(missing);
      const producer = await this.connectedProducer();
      const tagged = nonEmpty.flatMap(({ topic, messages }) => messages.map((message) => ({ topic, message })));
      // Sequential sends through an idempotent producer with one request in flight keep key order.
      for (const chunk of chunksBySize(tagged, MAX_SEND_BYTES)) {
        const byTopic = new Map<string, { key: string; value: string; headers?: Record<string, string> }[]>();
        for (const { topic, message } of chunk) {
          const list = byTopic.get(topic) ?? [];
          list.push({ key: message.key, value: message.value, headers: message.headers });
          byTopic.set(topic, list);
        }
        try {
          await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        } catch (error) {
          await this.discardProducer(producer);
          throw error;
        }
      }
    } catch (error) {
      throw new UnavailableError('Kafka did not accept the messages', { topics: topics.join(','), cause: errorText(error) });
    }
  }

  async subscribe(requested: ConsumerOptions): Promise<Consumer> {
    const options = { ...requested, groupId: `${this.options.groupNamespace ?? ''}${requested.groupId}` };
    const policy = retryPolicyOf(options);
    const fromBeginning = options.fromBeginning ?? true;
    await this.ensureTopics([...options.topics, ...options.topics.map(policy.deadLetterTopic)]);

    const sessionTimeoutMs = this.options.sessionTimeoutMs ?? DEFAULT_KAFKA_SESSION_TIMEOUT_MS;
    const subscription = new KafkaSubscription(
      options,
      policy,
      {
        fromBeginning,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        joinTimeoutMs: this.options.joinTimeoutMs ?? 30_000,
        staleAfterMs: sessionTimeoutMs,
        recoveryTimeoutMs: this.options.consumerRecoveryTimeoutMs ?? DEFAULT_CONSUMER_RECOVERY_TIMEOUT_MS,
        restartBackoffMs: this.options.consumerRestartBackoffMs ?? 500,
        commitIntervalMs: this.options.commitIntervalMs ?? DEFAULT_KAFKA_COMMIT_INTERVAL_MS,
      },
      {
        createConsumer: () =>
          this.kafka.consumer({
            groupId: options.groupId,
            heartbeatInterval: this.options.heartbeatIntervalMs ?? DEFAULT_KAFKA_HEARTBEAT_INTERVAL_MS,
            sessionTimeout: sessionTimeoutMs,
            // A fetch must fit the largest message, or the partition stalls on it.
            maxBytesPerPartition: KAFKA_MAX_MESSAGE_BYTES + 1024 * 1024,
            maxBytes: 2 * KAFKA_MAX_MESSAGE_BYTES,
            // The fetch long-poll also bounds how long stop() waits for an idle consumer.
            maxWaitTimeInMs: 1000,
            allowAutoTopicCreation: false,
          }),
        publish: (topic, messages) => this.publish(topic, messages),
        admin: () => this.connectedAdmin(),
        logger: this.logger,
        onFailed: (error) => this.options.onConsumerFailed?.(error),
      },
    );
    await subscription.start();
    this.subscriptions.add(subscription);
    return {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
        if (options.ephemeral) await this.deleteGroupIfEmpty(options.groupId);
      },
    };
  }

  /** Kafka refuses to delete a group that still has members: then another process still uses it. */
  private async deleteGroupIfEmpty(groupId: string): Promise<void> {
    try {
      await (await this.connectedAdmin()).deleteGroups([groupId]);
    } catch (error) {
      this.logger.debug({ err: error, groupId }, 'ephemeral group not deleted');
    }
  }

  consumerStatuses(): ConsumerStatus[] {
    return [...this.subscriptions].map((subscription) => subscription.status());
  }

  async groupLag(requestedGroupId: string, topics: string[]): Promise<number> {
    const groupId = `${this.options.groupNamespace ?? ''}${requestedGroupId}`;
    try {
      const admin = await this.connectedAdmin();
      const committed = await admin.fetchOffsets({ groupId, topics });
      let lag = 0n;
      for (const { topic, partitions } of committed) {
        const ends = new Map((await admin.fetchTopicOffsets(topic)).map((end) => [end.partition, end]));
        for (const { partition, offset } of partitions) {
          const end = ends.get(partition);
          if (!end) continue;
          // No committed offset yet (-1): everything still in the partition is ahead of the group.
          const position = offset === '-1' ? BigInt(end.low) : BigInt(offset);
          if (BigInt(end.high) > position) lag += BigInt(end.high) - position;
        }
      }
      return Number(lag);
    } catch (error) {
      throw new UnavailableError('Kafka did not report the group lag', { groupId, cause: errorText(error) });
    }
  }

  async ping(): Promise<void> {
    try {
      const admin = await this.connectedAdmin();
      await admin.describeCluster();
    } catch (error) {
      throw new UnavailableError('Kafka did not answer', { cause: errorText(error) });
    }
  }

  async close(): Promise<void> {
    const subscriptions = [...this.subscriptions];
    this.subscriptions.clear();
    await Promise.allSettled(subscriptions.map((subscription) => subscription.stop()));
    const [producer, admin] = [this.producer, this.admin];
    this.producer = undefined;
    this.admin = undefined;
    await Promise.allSettled([producer?.then((p) => p.disconnect()), admin?.then((a) => a.disconnect())]);
  }

  /**
   * After a failed send the broker may still have appended the batch (its answer was lost: the
   * broker stopped or crashed after writing, or the connection broke). kafkajs then rolls the
   * producer's sequence numbers back, so the next batch for that partition reuses them: a batch of
   * another size gets OUT_OF_ORDER_SEQUENCE_NUMBER on every later attempt (the relay would never
   * publish again), one of the same size is taken for a duplicate and silently dropped. A new
   * producer gets a new producer id and starts its sequences afresh; what was appended twice
   * meanwhile is an at-least-once redelivery, which consumers already handle.
   */
  private async discardProducer(failed: Producer): Promise<void> {
    const current = this.producer;
    if (current === undefined) return;
    const producer = await current.catch(() => undefined);
    if (producer !== failed) return; // already replaced by a concurrent failure
    this.producer = undefined;
    await failed.disconnect().catch((error: unknown) => this.logger.debug({ error: errorText(error) }, 'failed producer did not disconnect cleanly'));
  }

  private connectedProducer(): Promise<Producer> {
    this.producer ??= connectOnce(
      this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Explicit, so kafkajs does not print its v2 partitioner-change warning; murmur2 like Java clients.
        createPartitioner: Partitioners.DefaultPartitioner,
      }),
      () => (this.producer = undefined),
    );
    return this.producer;
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= connectOnce(this.kafka.admin(), () => (this.admin = undefined));
    return this.admin;
  }
}

/**
 * kafkajs' own factory leaves Nagle's algorithm on: a small request written while the connection's
 * previous one is unacknowledged waits for that acknowledgement. Requests here are small and each
 * one is awaited, so they go out at once (as the broker's answers do: Kafka sets TCP_NODELAY).
 */
const tcpWithoutDelay: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
    : net.connect({ host, port, noDelay: true }, onConnect);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  return socket;
};

function connectOnce<T extends { connect(): Promise<void> }>(client: T, forget: () => void): Promise<T> {
  return client.connect().then(
    () => client,
    (error: unknown) => {
      forget(); // the next call tries again instead of caching the failure
      throw error;
    },
  );
}

function chunksBySize<T extends { message: OutgoingMessage }>(messages: T[], maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const entry of messages) {
    const { message } = entry;
    const bytes = Buffer.byteLength(message.value) + Buffer.byteLength(message.key);
    if (current.length > 0 && currentBytes + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** kafkajs logs through pino at warn: its ERROR level includes routine rebalances, not failures of ours. */
function kafkajsLogCreator(logger: Logger): () => (entry: LogEntry) => void {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, ...details } = log;
      logger.warn({ kafkajs: namespace, kafkajsLevel: logLevel[level], ...details }, message);
    };
}
