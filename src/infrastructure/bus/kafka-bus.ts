/**
 * MessageBus on Apache Kafka through kafkajs. Semantics are the port's (message-bus.ts); the
 * Kafka-specific choices are explained where they are made. docs/bus.md has the overview.
 */
import { Kafka, logLevel, Partitioners, type Admin, type Consumer as KafkaConsumer, type EachMessagePayload } from 'kafkajs';
import type { IHeaders, LogEntry, Producer } from 'kafkajs';
import { UnavailableError } from '../../domain/shared/errors';
import type { Logger } from '../logging/logger';
import { deadLetterMessage, deliverWithRetries, errorText, retryPolicyOf } from './delivery';
import type { DeliveryOutcome, RetryPolicy } from './delivery';
import type { Consumer, ConsumerOptions, DeliveredMessage, MessageBus, OutgoingMessage } from './message-bus';

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
  sessionTimeoutMs?: number;
  /** Partitions one consumer handles at the same time (order stays per partition). Default 1. */
  partitionsConsumedConcurrently?: number;
  /** How long `subscribe` waits for the group join. Default 30 s. */
  joinTimeoutMs?: number;
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
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'lapxcel-arena',
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(this.logger),
    });
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
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
    for (const topic of topics) this.knownTopics.add(topic);
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      if (!this.knownTopics.has(topic)) await this.ensureTopics([topic]);
      const producer = await this.connectedProducer();
      // Sequential sends through an idempotent producer with one request in flight keep key order.
      for (const chunk of chunksBySize(messages, MAX_SEND_BYTES)) {
        await producer.send({
          topic,
          acks: -1,
          messages: chunk.map((message) => ({ key: message.key, value: message.value, headers: message.headers })),
        });
      }
    } catch (error) {
      throw new UnavailableError('Kafka did not accept the messages', { topic, cause: errorText(error) });
    }
  }

  async subscribe(requested: ConsumerOptions): Promise<Consumer> {
    const options = { ...requested, groupId: `${this.options.groupNamespace ?? ''}${requested.groupId}` };
    const policy = retryPolicyOf(options);
    const fromBeginning = options.fromBeginning ?? true;
    await this.ensureTopics([...options.topics, ...options.topics.map(policy.deadLetterTopic)]);

    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      heartbeatInterval: this.options.heartbeatIntervalMs ?? 1000,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      // A fetch must fit the largest message, or the partition stalls on it.
      maxBytesPerPartition: KAFKA_MAX_MESSAGE_BYTES + 1024 * 1024,
      maxBytes: 2 * KAFKA_MAX_MESSAGE_BYTES,
      // The fetch long-poll also bounds how long stop() waits for an idle consumer.
      maxWaitTimeInMs: 1000,
      allowAutoTopicCreation: false,
    });
    const subscription = new KafkaSubscription(consumer, options, policy, {
      producer: () => this.connectedProducer(),
      admin: () => this.connectedAdmin(),
      logger: this.logger,
    });
    await subscription.start(fromBeginning, this.options.partitionsConsumedConcurrently ?? 1, this.options.joinTimeoutMs ?? 30_000);
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

/** One group member: delivers, retries, dead-letters, and commits offset + 1 after each message. */
class KafkaSubscription {
  private readonly stopSignal = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping?: Promise<void>;
  private readonly logger: Logger;

  constructor(
    private readonly consumer: KafkaConsumer,
    private readonly options: ConsumerOptions,
    private readonly policy: RetryPolicy,
    private readonly clients: { producer(): Promise<Producer>; admin(): Promise<Admin>; logger: Logger },
  ) {
    this.logger = clients.logger;
  }

  async start(fromBeginning: boolean, partitionsConsumedConcurrently: number, joinTimeoutMs: number): Promise<void> {
    const { groupId } = this.options;
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ groupId, error: errorText(payload.error), restart: payload.restart }, 'consumer crashed');
    });
    let removeJoinListener: () => void = () => undefined;
    const joined = new Promise<void>((resolve, reject) => {
      removeJoinListener = this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
        removeJoinListener();
        if (fromBeginning) return resolve();
        // Synchronously, before kafkajs' first fetch resolves "latest" (see pinStartOfNewGroup).
        const topics = this.options.topics.map((topic) => ({ topic }));
        this.consumer.pause(topics);
        this.pinStartOfNewGroup(payload.memberAssignment).then(() => {
          this.consumer.resume(topics);
          resolve();
        }, reject);
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), joinTimeoutMs)));
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: this.options.topics, fromBeginning });
      await this.consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently,
        eachMessage: (payload) => this.track(this.onMessage(payload)),
      });
      if ((await Promise.race([joined, timedOut])) === 'timeout') {
        throw new UnavailableError('Kafka consumer did not join its group in time', { groupId, joinTimeoutMs });
      }
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
      removeJoinListener();
    }
  }

  /**
   * kafkajs resolves "latest" for a partition without a committed offset at its first fetch, some
   * time after the join `subscribe` waits for: a message published right after `subscribe` resolved
   * could land before that point and be skipped. So the partitions stay paused while the current
   * end offsets are committed (a restart then resumes there instead of at a later "latest").
   */
  private async pinStartOfNewGroup(assignment: Record<string, number[]>): Promise<void> {
    const admin = await this.clients.admin();
    const topics = Object.keys(assignment);
    if (topics.length === 0) return;
    const committed = await admin.fetchOffsets({ groupId: this.options.groupId, topics });
    const starts: { topic: string; partition: number; offset: string }[] = [];
    for (const { topic, partitions } of committed) {
      const uncommitted = new Set(
        partitions.filter((p) => p.offset === '-1' && assignment[topic]?.includes(p.partition)).map((p) => p.partition),
      );
      if (uncommitted.size === 0) continue;
      for (const end of await admin.fetchTopicOffsets(topic)) {
        if (uncommitted.has(end.partition)) starts.push({ topic, partition: end.partition, offset: end.high });
      }
    }
    if (starts.length === 0) return;
    await this.consumer.commitOffsets(starts);
    for (const start of starts) this.consumer.seek(start);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopSignal.abort();
      // Handlers finish and commit while the consumer still runs: kafkajs' commitOffsets silently
      // does nothing once consumer.stop()/disconnect() has begun, which would redeliver them.
      await Promise.allSettled([...this.inFlight]);
      await this.consumer.disconnect();
    })();
    return this.stopping;
  }

  private async track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    try {
      await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async onMessage({ topic, partition, message, heartbeat, pause }: EachMessagePayload): Promise<void> {
    if (this.stopSignal.signal.aborted) {
      // Stopping: leave it uncommitted and stop fetching this partition until the consumer is gone.
      pause();
      return;
    }
    const delivered: DeliveredMessage = {
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString('utf8') ?? '',
      value: message.value?.toString('utf8') ?? '',
      headers: headersAsText(message.headers),
    };
    // A handler longer than the session timeout would otherwise get this member evicted mid-message.
    const keepAlive = setInterval(() => heartbeat().catch(() => undefined), 1000);
    let outcome: DeliveryOutcome;
    try {
      outcome = await deliverWithRetries(delivered, this.options.handler, this.policy, {
        signal: this.stopSignal.signal,
        beforeRetry: heartbeat,
        onAttemptFailed: (error, attempt) =>
          this.logger.warn(
            { groupId: this.options.groupId, topic, partition, offset: message.offset, attempt, error: errorText(error) },
            'message handler failed',
          ),
      });
    } finally {
      clearInterval(keepAlive);
    }
    // Stopping between attempts: nothing committed, so the group delivers the message again.
    if (outcome.kind === 'abandoned') return;
    if (outcome.kind === 'exhausted') {
      const producer = await this.clients.producer();
      await producer.send({
        topic: this.policy.deadLetterTopic(topic),
        acks: -1,
        messages: [deadLetterMessage(delivered, outcome.attempts, outcome.lastError)],
      });
      this.logger.warn({ groupId: this.options.groupId, topic, partition, offset: message.offset }, 'message dead-lettered');
    }
    // Kafka's committed offset is the next one to read.
    await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
  }
}

function connectOnce<T extends { connect(): Promise<void> }>(client: T, forget: () => void): Promise<T> {
  return client.connect().then(
    () => client,
    (error: unknown) => {
      forget(); // the next call tries again instead of caching the failure
      throw error;
    },
  );
}

function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    // A header repeated by a foreign producer arrives as an array: the last one wins.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) text[name] = typeof last === 'string' ? last : last.toString('utf8');
  }
  return text;
}

function chunksBySize(messages: OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let currentBytes = 0;
  for (const message of messages) {
    const bytes = Buffer.byteLength(message.value) + Buffer.byteLength(message.key);
    if (current.length > 0 && currentBytes + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(message);
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
