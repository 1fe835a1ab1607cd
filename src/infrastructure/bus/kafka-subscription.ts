/**
 * One Kafka group member that heals. kafkajs restarts a consumer only after retriable errors; a
 * non-retriable one (e.g. "Failed to find group coordinator" after a broker restart) leaves it
 * dead. So this member watches its consumer, recreates it with backoff (it resubscribes and
 * resumes from the group's committed offsets), and reports itself failed when it cannot come back
 * within the recovery bound, so that the process exits and its supervisor restarts it.
 */
import type { Admin, EachBatchPayload, Consumer as KafkaConsumer, EachMessagePayload, IHeaders, KafkaMessage } from 'kafkajs';
import { UnavailableError } from '../../domain/shared/errors';
import type { Logger } from '../logging/logger';
import { ConsumerFailedError, isConsumerLive, type ConsumerState, type ConsumerStatus } from './consumer-status';
import { abortableDelay, deadLetterMessage, deliverWithRetries, errorText } from './delivery';
import type { DeliveryOutcome, RetryPolicy } from './delivery';
import { KafkaOffsetCommits } from './kafka-offset-commits';
import type { ConsumerOptions, DeliveredMessage, OutgoingMessage } from './message-bus';

export interface KafkaSubscriptionSettings {
  fromBeginning: boolean;
  partitionsConsumedConcurrently: number;
  joinTimeoutMs: number;
  /** No sign of life from the broker for this long: not live (readiness fails). */
  staleAfterMs: number;
  /** Not live for this long in a row: failed, and `onFailed` is called. */
  recoveryTimeoutMs: number;
  /** First delay before recreating a crashed consumer; doubles up to 10 s. */
  restartBackoffMs: number;
  /** Handled offsets are committed together at most this long after the first of them (kafka-offset-commits.ts); 0 commits each batch or message at once. */
  commitIntervalMs: number;
}

export interface KafkaSubscriptionClients {
  createConsumer(): KafkaConsumer;
  /** The bus's publish (acks from all replicas; a failed send replaces the producer). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  admin(): Promise<Admin>;
  logger: Logger;
  onFailed(error: ConsumerFailedError): void;
}

const MAX_RESTART_BACKOFF_MS = 10_000;
const WATCHDOG_INTERVAL_MS = 1_000;

export class KafkaSubscription {
  private readonly stopSignal = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private consumer?: KafkaConsumer;
  private stopping?: Promise<void>;
  private healing?: Promise<void>;
  private watchdog?: NodeJS.Timeout;
  private notLiveSince?: number;
  private readonly current: ConsumerStatus;
  private readonly logger: Logger;
  private readonly deliverOne: (message: DeliveredMessage) => Promise<void>;
  private readonly commits: KafkaOffsetCommits;

  constructor(
    private readonly options: ConsumerOptions,
    private readonly policy: RetryPolicy,
    private readonly settings: KafkaSubscriptionSettings,
    private readonly clients: KafkaSubscriptionClients,
  ) {
    this.logger = clients.logger.child({ groupId: options.groupId });
    this.current = { groupId: options.groupId, topics: [...options.topics], state: 'starting', stateSince: new Date(), restarts: 0 };
    this.commits = new KafkaOffsetCommits(settings.commitIntervalMs, this.logger);
    const { handler, batchHandler } = options;
    if ((handler === undefined) === (batchHandler === undefined)) throw new TypeError('a consumer takes exactly one of handler and batchHandler');
    this.deliverOne = handler ?? ((message) => (batchHandler ? batchHandler([message]) : Promise.resolve()));
  }

  status(): ConsumerStatus {
    return { ...this.current, topics: [...this.current.topics] };
  }

  /**
   * Joins the group. A broker that has just started (or just created the topics) answers some
   * requests with retriable errors for a moment ("This server does not host this topic-partition"),
   * so failed attempts are retried with backoff until joinTimeoutMs has passed.
   */
  async start(): Promise<void> {
    const deadline = Date.now() + this.settings.joinTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.attach();
        break;
      } catch (error) {
        const dead = this.consumer;
        this.consumer = undefined;
        await dead?.disconnect().catch(() => undefined);
        const delayMs = Math.min(this.settings.restartBackoffMs * 2 ** attempt, MAX_RESTART_BACKOFF_MS);
        if (this.stopSignal.signal.aborted || Date.now() + delayMs >= deadline) {
          await this.stop();
          throw error;
        }
        this.logger.warn({ error: errorText(error), attempt: attempt + 1 }, 'consumer could not join yet; retrying');
        await abortableDelay(delayMs, this.stopSignal.signal);
      }
    }
    this.watchdog = setInterval(() => this.watch(), WATCHDOG_INTERVAL_MS);
    this.watchdog.unref();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopSignal.abort();
      clearInterval(this.watchdog);
      await this.healing?.catch(() => undefined);
      // Handlers finish and commit while the consumer still runs: kafkajs' commitOffsets silently
      // does nothing once consumer.stop()/disconnect() has begun, which would redeliver them.
      await Promise.allSettled([...this.inFlight]);
      await this.commits.flush().catch(() => undefined);
      this.commits.close();
      // disconnect() leaves the group, so the other members take its partitions over at once.
      await this.consumer?.disconnect().catch((error: unknown) => this.logger.warn({ error: errorText(error) }, 'consumer disconnect failed'));
      this.setState('stopped');
    })();
    return this.stopping;
  }

  private setState(state: ConsumerState, error?: unknown): void {
    if (error !== undefined) this.current.lastError = errorText(error);
    if (this.current.state === state || this.current.state === 'failed') return;
    this.current.state = state;
    this.current.stateSince = new Date();
  }

  private seenAlive(consumer: KafkaConsumer): void {
    if (consumer === this.consumer) this.current.lastSeenAliveAt = new Date();
  }

  /** Creates a consumer, joins the group and waits for the join (or fails after joinTimeoutMs). */
  private async attach(): Promise<void> {
    const consumer = this.clients.createConsumer();
    this.consumer = consumer;
    const { groupId, topics } = this.options;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (consumer !== this.consumer || this.stopSignal.signal.aborted) return;
      this.logger.error({ error: errorText(payload.error), restart: payload.restart }, 'consumer crashed');
      this.setState('recovering', payload.error);
      // restart: kafkajs starts this consumer again by itself; otherwise it is gone for good.
      if (!payload.restart) this.heal(payload.error);
    });
    for (const sign of [consumer.events.HEARTBEAT, consumer.events.FETCH, consumer.events.COMMIT_OFFSETS]) {
      consumer.on(sign, () => this.seenAlive(consumer));
    }
    // Before the group moves partitions: what this member handled is recorded first, so the member
    // that takes a partition over starts after it (a commit of the generation ending is accepted).
    consumer.on(consumer.events.REBALANCING, () => void this.commits.flush().catch(() => undefined));
    let removeJoinListener: () => void = () => undefined;
    const joined = new Promise<void>((resolve, reject) => {
      removeJoinListener = consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const becameMember = () => {
          this.seenAlive(consumer);
          if (consumer === this.consumer) this.setState('running');
          resolve();
        };
        if (this.settings.fromBeginning) return becameMember();
        // Synchronously, before kafkajs' first fetch resolves "latest" (see pinStartOfNewGroup).
        const paused = topics.map((topic) => ({ topic }));
        consumer.pause(paused);
        this.pinStartOfNewGroup(consumer, payload.memberAssignment).then(() => {
          consumer.resume(paused);
          becameMember();
        }, reject);
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.settings.joinTimeoutMs)));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: this.settings.fromBeginning });
      const { batchHandler } = this.options;
      await consumer.run(
        batchHandler
          ? {
              autoCommit: false,
              eachBatchAutoResolve: false,
              partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
              eachBatch: (payload) => this.track(this.onBatch(consumer, payload, batchHandler)),
            }
          : {
              autoCommit: false,
              partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
              eachMessage: (payload) => this.track(this.onMessage(consumer, payload)),
            },
      );
      if ((await Promise.race([joined, timedOut])) === 'timeout') {
        throw new UnavailableError('Kafka consumer did not join its group in time', { groupId, joinTimeoutMs: this.settings.joinTimeoutMs });
      }
    } finally {
      clearTimeout(timer);
      // Later joins (rebalances, kafkajs' own restarts) only mark the member running again.
      removeJoinListener();
      consumer.on(consumer.events.GROUP_JOIN, () => {
        this.seenAlive(consumer);
        if (consumer === this.consumer) this.setState('running');
      });
    }
  }

  /** Recreates the consumer with backoff until it joins again or the subscription stops. */
  private heal(reason: unknown): void {
    if (this.healing || this.stopSignal.signal.aborted) return;
    this.setState('recovering', reason);
    this.healing = (async () => {
      for (let attempt = 0; !this.stopSignal.signal.aborted && this.current.state !== 'failed'; attempt++) {
        const dead = this.consumer;
        this.consumer = undefined;
        await dead?.disconnect().catch(() => undefined);
        await abortableDelay(Math.min(this.settings.restartBackoffMs * 2 ** attempt, MAX_RESTART_BACKOFF_MS), this.stopSignal.signal);
        if (this.stopSignal.signal.aborted) return;
        try {
          this.current.restarts += 1;
          await this.attach();
          this.logger.warn({ restarts: this.current.restarts }, 'consumer recreated; resumed from committed offsets');
          return;
        } catch (error) {
          this.current.lastError = errorText(error);
          this.logger.warn({ error: errorText(error), attempt: attempt + 1 }, 'consumer recreation failed; retrying');
        }
      }
    })().finally(() => (this.healing = undefined));
  }

  /** Once a second: a consumer that shows no sign of life is recreated, and fails after the bound. */
  private watch(): void {
    if (this.stopSignal.signal.aborted || this.current.state === 'failed') return;
    const now = Date.now();
    if (isConsumerLive(this.current, this.settings.staleAfterMs, new Date(now))) {
      this.notLiveSince = undefined;
      return;
    }
    this.notLiveSince ??= now;
    const notLiveMs = now - this.notLiveSince;
    if (notLiveMs > this.settings.recoveryTimeoutMs) {
      this.setState('failed', this.current.lastError ?? `no sign of life for ${notLiveMs} ms`);
      this.current.state = 'failed';
      this.logger.fatal({ notLiveMs, lastError: this.current.lastError }, 'consumer could not recover');
      clearInterval(this.watchdog);
      this.clients.onFailed(new ConsumerFailedError(this.status()));
      return;
    }
    // Stuck without a crash (e.g. kafkajs retrying a broker that came back elsewhere): recreate it.
    if (!this.healing && notLiveMs > 3 * this.settings.staleAfterMs) this.heal(this.current.lastError ?? 'no sign of life');
  }

  /**
   * kafkajs resolves "latest" for a partition without a committed offset at its first fetch, some
   * time after the join `subscribe` waits for: a message published right after `subscribe` resolved
   * could land before that point and be skipped. So the partitions stay paused while the current
   * end offsets are committed (a restart then resumes there instead of at a later "latest").
   */
  private async pinStartOfNewGroup(consumer: KafkaConsumer, assignment: Record<string, number[]>): Promise<void> {
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
    await consumer.commitOffsets(starts);
    for (const start of starts) consumer.seek(start);
  }

  private async track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    try {
      await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  /**
   * The batch handler gets the fetched messages of one partition at once and one commit follows.
   * A batch that throws is delivered one message at a time (deliverAlone), each committed and
   * resolved on its own: a later stop or crash redelivers from the first uncommitted message.
   */
  private async onBatch(
    consumer: KafkaConsumer,
    { batch, resolveOffset, heartbeat, pause, isRunning, isStale }: EachBatchPayload,
    batchHandler: (messages: DeliveredMessage[]) => Promise<void>,
  ): Promise<void> {
    if (this.stopSignal.signal.aborted) {
      pause();
      return;
    }
    if (batch.isEmpty()) return;
    this.seenAlive(consumer);
    const { topic, partition } = batch;
    const messages = batch.messages.map((message) => deliveredMessage(topic, partition, message));
    const keepAlive = setInterval(() => heartbeat().catch(() => undefined), 1000);
    try {
      await batchHandler(messages);
    } catch (error) {
      this.logger.warn(
        { topic, partition, offset: batch.firstOffset(), messages: messages.length, error: errorText(error) },
        'batch handler failed; delivering its messages one at a time',
      );
      for (const message of messages) {
        if (this.stopSignal.signal.aborted || !isRunning() || isStale()) return;
        if (!(await this.deliverAlone(consumer, message, heartbeat))) return;
        resolveOffset(message.offset);
      }
      return;
    } finally {
      clearInterval(keepAlive);
    }
    const last = messages[messages.length - 1].offset;
    // Kafka's committed offset is the next one to read (see onMessage on a replaced consumer).
    await this.commits.handled(consumer, topic, partition, (BigInt(last) + 1n).toString());
    resolveOffset(last);
    await heartbeat().catch(() => undefined);
  }

  private async onMessage(consumer: KafkaConsumer, { topic, partition, message, heartbeat, pause }: EachMessagePayload): Promise<void> {
    if (this.stopSignal.signal.aborted) {
      // Stopping: leave it uncommitted and stop fetching this partition until the consumer is gone.
      pause();
      return;
    }
    this.seenAlive(consumer);
    await this.deliverAlone(consumer, deliveredMessage(topic, partition, message), heartbeat);
  }

  /** Retries, dead-letters, commits one message; false when it stays uncommitted (stopping). */
  private async deliverAlone(consumer: KafkaConsumer, delivered: DeliveredMessage, heartbeat: () => Promise<void>): Promise<boolean> {
    const { topic, partition } = delivered;
    const message = { offset: delivered.offset };
    // A handler longer than the session timeout would otherwise get this member evicted mid-message.
    const keepAlive = setInterval(() => heartbeat().catch(() => undefined), 1000);
    let outcome: DeliveryOutcome;
    try {
      outcome = await deliverWithRetries(delivered, this.deliverOne, this.policy, {
        signal: this.stopSignal.signal,
        beforeRetry: heartbeat,
        onAttemptFailed: (error, attempt) =>
          this.logger.warn({ topic, partition, offset: message.offset, attempt, error: errorText(error) }, 'message handler failed'),
      });
    } finally {
      clearInterval(keepAlive);
    }
    // Stopping between attempts: nothing committed, so the group delivers the message again.
    if (outcome.kind === 'abandoned') return false;
    if (outcome.kind === 'exhausted') {
      await this.clients.publish(this.policy.deadLetterTopic(topic), [deadLetterMessage(delivered, outcome.attempts, outcome.lastError)]);
      this.logger.warn({ topic, partition, offset: message.offset }, 'message dead-lettered');
    }
    // Kafka's committed offset is the next one to read. A consumer replaced meanwhile commits
    // nothing (kafkajs ignores it): the message comes again, and handlers are idempotent.
    await this.commits.handled(consumer, topic, partition, (BigInt(message.offset) + 1n).toString());
    return true;
  }
}

/**
 * The value is decoded from its bytes when first read: most groups look only at the key and the
 * headers (event type, revision) and skip the event, and a telemetry batch is ~90 KB of text.
 */
function deliveredMessage(topic: string, partition: number, message: KafkaMessage): DeliveredMessage {
  let value: string | undefined;
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8') ?? '',
    get value(): string {
      value ??= message.value?.toString('utf8') ?? '';
      return value;
    },
    headers: headersAsText(message.headers),
  };
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
