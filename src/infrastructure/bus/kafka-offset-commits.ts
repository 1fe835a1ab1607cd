/**
 * The offsets one Kafka group member has handled, written to the group coordinator together: one
 * OffsetCommit request per member at most every `intervalMs` instead of one per batch or message.
 *
 * Every commit still names only offsets whose handler resolved (at-least-once is unchanged); what
 * changes is how long a handled offset may wait before Kafka records it. A process that dies in
 * that window has its handled-but-unrecorded messages delivered again, which handlers already
 * accept (they are idempotent). `flush()` writes what is pending at once: before a member stops,
 * and when its group starts rebalancing (so the member that takes a partition over starts after
 * what this one handled).
 *
 * Offsets belong to the kafkajs consumer that handled them: once the member recreates its consumer
 * (healing), the old one's pending offsets are dropped (kafkajs ignores commits of a stopped
 * consumer anyway) and those messages come again from the group's last committed offsets.
 */
import type { Consumer as KafkaConsumer } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { errorText } from './delivery';

interface PendingOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read (Kafka's committed offset), a decimal string. */
  readonly offset: string;
}

export class KafkaOffsetCommits {
  private consumer: KafkaConsumer | undefined;
  private pending = new Map<string, PendingOffset>();
  private timer: NodeJS.Timeout | undefined;
  /** The commit being written: flushes run one after another, so a later offset is never overwritten by an earlier one. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Records that every message of the partition before `nextOffset` was handled by `consumer`. With
   * an interval of 0 the offset is written now and the returned promise settles with that commit;
   * otherwise it is written with the member's next commit, within `intervalMs`.
   */
  handled(consumer: KafkaConsumer, topic: string, partition: number, nextOffset: string): Promise<void> {
    if (this.consumer !== consumer) {
      this.pending.clear(); // a replaced consumer's offsets: those messages are delivered again
      this.consumer = consumer;
    }
    this.pending.set(`${partition}:${topic}`, { topic, partition, offset: nextOffset });
    if (this.intervalMs <= 0) return this.flush();
    if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.intervalMs);
      this.timer.unref(); // stop() and close() write what is pending; the timer alone keeps no process alive
    }
    return Promise.resolve();
  }

  /** Writes the pending offsets now; resolves once they (and any earlier write) are written or given up. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const consumer = this.consumer;
    const offsets = [...this.pending.values()];
    this.pending = new Map();
    const previous = this.writing;
    const write = (async () => {
      await previous;
      if (consumer === undefined || offsets.length === 0) return;
      try {
        await consumer.commitOffsets(offsets);
      } catch (error) {
        // A rebalance or an unreachable coordinator: the group resumes from its last recorded
        // offsets, so these messages are delivered again (at-least-once). A commit that failed
        // while the consumer keeps running is retried by the next one, which carries newer offsets.
        this.logger.warn({ error: errorText(error), offsets: offsets.length }, 'offset commit failed; the messages after the last committed offsets will come again');
        if (this.intervalMs <= 0) throw error;
      }
    })();
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Stops the timer; pending offsets are dropped (call flush() first to keep them). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
