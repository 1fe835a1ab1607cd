import type { Logger } from 'pino';
import { encodeEnvelope, topicForStream } from '../bus/event-envelope';
import type { MessageBus, OutgoingMessage } from '../bus/message-bus';
import type { EventStore, StoreIdentity } from '../eventstore/event-store';
import { CheckpointStoreMismatchError, type RelayCheckpoints } from './relay-checkpoints';

export interface EventRelayOptions {
  name?: string;
  topicPrefix: string;
  batchSize?: number;
  idlePollMs?: number;
}

/**
 * Event store -> bus, in global order, at-least-once: a batch is published, then the checkpoint is
 * saved. A crash between the two republishes that batch on restart; consumers are idempotent.
 */
export class EventRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly knownTopics = new Set<string>();
  private readonly name: string;
  private storeIdentity: StoreIdentity | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
    private readonly checkpoints: RelayCheckpoints,
    private readonly logger: Logger,
    private readonly options: EventRelayOptions,
  ) {
    this.name = options.name ?? 'main';
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Publishes everything appended so far; returns how many events it relayed. Used by `start` and tests. */
  async relayPending(): Promise<number> {
    this.storeIdentity ??= await this.store.identity();
    const store = this.storeIdentity;
    let after = await this.checkpoints.load(this.name, store);
    let total = 0;
    for (;;) {
      const events = await this.store.readAll({ after, maxCount: this.options.batchSize ?? 500 });
      if (events.length === 0) return total;
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const event of events) {
        const topic = topicForStream(this.options.topicPrefix, event.streamId);
        const messages = byTopic.get(topic) ?? [];
        messages.push({
          key: event.streamId,
          value: encodeEnvelope(event),
          headers: { 'event-type': event.type, 'event-id': event.id, 'event-revision': event.revision.toString() },
        });
        byTopic.set(topic, messages);
      }
      const newTopics = [...byTopic.keys()].filter((t) => !this.knownTopics.has(t));
      if (newTopics.length) {
        await this.bus.ensureTopics(newTopics);
        newTopics.forEach((t) => this.knownTopics.add(t));
      }
      for (const [topic, messages] of byTopic) await this.bus.publish(topic, messages);
      after = events[events.length - 1].position;
      await this.checkpoints.save(this.name, after, store);
      total += events.length;
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const relayed = await this.relayPending();
        failures = 0;
        if (relayed === 0) await this.sleep(this.options.idlePollMs ?? 25);
      } catch (error) {
        if (error instanceof CheckpointStoreMismatchError) {
          // Retrying cannot help: publishing from a foreign position would skip or repeat history.
          this.logger.fatal({ err: error }, 'relay stopped: its checkpoint belongs to another event store');
          this.running = false;
          return;
        }
        failures++;
        this.logger.error({ err: error, failures }, 'relay batch failed; retrying from the last checkpoint');
        await this.sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
