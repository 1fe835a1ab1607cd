/**
 * MessageBus port. Adapters: Kafka (kafkajs) and the in-process bus (embedded default, durable
 * in the read-model PostgreSQL). Both pass test/integration/bus/message-bus.contract.ts.
 *
 * Semantics shared by every adapter:
 * - a topic has partitions; a message's key picks its partition, so one key is delivered in order;
 * - every consumer group receives every message; within a group, one member handles each message;
 * - at-least-once: an offset is committed only after the handler resolved;
 * - a handler that throws is retried with backoff; after `maxAttempts` failures the message goes to
 *   the dead-letter topic (`<topic>.dlq` unless set) with the error in headers, and is committed.
 * - a consumer takes either `handler` (one message at a time) or `batchHandler` (the messages of one
 *   partition that are ready, in order, committed together once it resolved). A batch that throws is
 *   delivered again one message at a time (each through `batchHandler` with a batch of one), with
 *   the retries and the dead-letter topic above, committing after each: one poison message never
 *   holds its neighbours back. After a crash a batch may come again in full or from any message on
 *   (partial redelivery): batch handlers are idempotent per message.
 * - adapters take a `groupNamespace` (the deployment's TOPIC_PREFIX) prepended to every group id, so
 *   deployments (and parallel test runs) sharing a broker never join each other's groups.
 */

export interface OutgoingMessage {
  key: string;
  /** UTF-8 JSON text in practice; the bus does not interpret it. */
  value: string;
  headers?: Record<string, string>;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

export interface DeliveredMessage {
  topic: string;
  partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets exceed 2^53). */
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** A group with no committed offset starts at the earliest message (true, default) or only new ones. */
  fromBeginning?: boolean;
  /** One message at a time. Exactly one of `handler` and `batchHandler` is given. */
  handler?: (message: DeliveredMessage) => Promise<void>;
  /** Messages of one partition in offset order (never empty); committed once it resolved. */
  batchHandler?: (messages: DeliveredMessage[]) => Promise<void>;
  /**
   * The event types (the relay's `event-type` header) whose payload this consumer reads. A message
   * whose header names another type is still delivered, in order, and committed, with its key,
   * headers and offset, but its `value` may be empty: the in-process bus does not fetch it (a
   * consumer that only moves a revision past a multi-MB telemetry batch need not read the batch).
   * Messages without the header always carry their value; an adapter may send every value anyway
   * (Kafka does). Default: every value.
   */
  valueTypes?: readonly string[];
  /** Attempts before dead-lettering, including the first. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt. Default 100 ms. */
  retryBackoffMs?: number;
  /** Default `<topic>.dlq`. */
  deadLetterTopic?: (topic: string) => string;
  /**
   * The group lives only while its consumers run (e.g. one per API process for WebSocket pushes):
   * once none is left, its offsets are dropped and it holds back no retention. Default false.
   */
  ephemeral?: boolean;
}

export interface Consumer {
  /** Stops consuming; resolves after the running handler finished and its offset was committed. */
  stop(): Promise<void>;
}

export const DEAD_LETTER_HEADERS = {
  error: 'x-dlq-error',
  originalTopic: 'x-dlq-original-topic',
  originalPartition: 'x-dlq-original-partition',
  originalOffset: 'x-dlq-original-offset',
  attempts: 'x-dlq-attempts',
} as const;

export const defaultDeadLetterTopic = (topic: string): string => `${topic}.dlq`;

import type { ConsumerStatus } from './consumer-status';

export interface MessageBus {
  /** Creates topics that do not exist yet (idempotent). */
  ensureTopics(topics: string[]): Promise<void>;
  /** Resolves once the bus has durably accepted every message. */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /** Several topics in one call (the relay's batch): one transaction in-process, one produce request per size chunk on Kafka. */
  publishAll(batches: TopicMessages[]): Promise<void>;
  /** Resolves once the consumer joined its group and is receiving. */
  subscribe(options: ConsumerOptions): Promise<Consumer>;
  /** The consumers this bus runs in this process, and how they are (readiness, metrics). */
  consumerStatuses(): ConsumerStatus[];
  /** Messages in `topics` that group `groupId` (without namespace) has not committed yet. */
  groupLag(groupId: string, topics: string[]): Promise<number>;
  /** Resolves when the bus answers; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
