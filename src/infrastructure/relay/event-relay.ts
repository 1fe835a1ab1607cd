import type { Logger } from 'pino';
import { encodeEnvelope, topicForStream } from '../bus/event-envelope';
import type { MessageBus, OutgoingMessage } from '../bus/message-bus';
import type { EventStore, GlobalPosition, StoreIdentity } from '../eventstore/event-store';
import { CheckpointMovedError, CheckpointStoreMismatchError, type RelayCheckpoints } from './relay-checkpoints';

export interface EventRelayOptions {
  name?: string;
  topicPrefix: string;
  /** Events read, published (one bus call) and checkpointed (one write) at a time. Default 500. */
  batchSize?: number;
  /**
   * Longest idle wait before reading again. With a store that pushes (watchAppends) it is only a
   * safety net, default 10 s; a store without push is polled this often, default 25 ms.
   */
  idlePollMs?: number;
}

const PUSHED_SAFETY_POLL_MS = 10_000;
const UNPUSHED_POLL_MS = 25;
/** Re-reads of events held back by an older transaction start this soon and back off to the max. */
const MIN_HELD_BACK_DELAY_MS = 2;
const MAX_HELD_BACK_DELAY_MS = 200;

/**
 * Event store -> bus, in global order, at-least-once: a batch is published (one bus call for all
 * its topics), then the checkpoint is saved (one write). A crash between the two republishes that
 * batch on restart; consumers are idempotent.
 *
 * Push, not poll: the store's append notification (PostgreSQL LISTEN/NOTIFY) wakes the relay; it
 * re-reads by position, so a wake-up is only a hint. When PostgreSQL holds committed events back
 * behind an older, still running transaction (the position-gap rule, docs/event-store.md), no
 * notification may follow, so the relay looks again after a short, growing delay until they show.
 */
export class EventRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Set by a wake-up that came while the relay was busy, so it reads again instead of sleeping. */
  private wakeRequested = false;
  /** The checkpoint as this relay last loaded or saved it. */
  private position: GlobalPosition | undefined;
  /** Whether `position` is the stored checkpoint as far as this relay knows (false: load it on the next pass). */
  private positionKnown = false;
  private unwatch: (() => void) | undefined;
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
    this.unwatch = this.store.watchAppends?.(() => this.requestWake());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    this.unwatch = undefined;
    this.requestWake();
    await this.loop;
  }

  private requestWake(): void {
    this.wakeRequested = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Publishes everything appended so far; returns how many events it relayed. Used by `start` and tests. */
  async relayPending(): Promise<number> {
    this.storeIdentity ??= await this.store.identity();
    const store = this.storeIdentity;
    // Loaded on the first pass, after a failure and after an idle wait (the safety poll); otherwise
    // it is where this relay saved it, and each save checks that (CheckpointMovedError), so a
    // checkpoint reset by an operator takes effect at the next save or safety poll.
    if (!this.positionKnown) {
      this.position = await this.checkpoints.load(this.name, store);
      this.positionKnown = true;
    }
    let after = this.position;
    let total = 0;
    const batchSize = this.options.batchSize ?? 500;
    for (;;) {
      const events = await this.store.readAll({ after, maxCount: batchSize });
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
      await this.bus.publishAll([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      const saved = after;
      after = events[events.length - 1].position;
      try {
        await this.checkpoints.save(this.name, after, store, saved ?? 'none');
      } catch (error) {
        this.positionKnown = false; // whatever happened to the save, the next pass loads the checkpoint
        if (!(error instanceof CheckpointMovedError)) throw error;
        // Published again from the stored checkpoint on the next pass: at-least-once, consumers are idempotent.
        this.logger.warn({ checkpoint: this.name }, 'relay checkpoint moved by someone else; loading it again');
        this.wakeRequested = true;
        return total + events.length;
      }
      this.position = after;
      total += events.length;
      // A short page was all the store showed: what commits later wakes the relay again (or is
      // found by hasEventsAfter when held back), so reading once more now would only find nothing.
      if (events.length < batchSize) return total;
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    let heldBackDelayMs = MIN_HELD_BACK_DELAY_MS / 2;
    const idlePollMs = this.options.idlePollMs ?? (this.unwatch ? PUSHED_SAFETY_POLL_MS : UNPUSHED_POLL_MS);
    while (this.running) {
      try {
        // Cleared before reading: a wake-up during the read makes the relay read again.
        this.wakeRequested = false;
        await this.relayPending();
        failures = 0;
        if (this.wakeRequested) continue;
        if (await this.store.hasEventsAfter?.(this.position)) {
          heldBackDelayMs = Math.min(heldBackDelayMs * 2, MAX_HELD_BACK_DELAY_MS);
          await this.sleep(heldBackDelayMs);
        } else {
          heldBackDelayMs = MIN_HELD_BACK_DELAY_MS / 2;
          // The safety poll (no wake-up came) loads the checkpoint again: an operator's reset shows.
          if (!(await this.sleep(idlePollMs))) this.positionKnown = false;
        }
      } catch (error) {
        if (error instanceof CheckpointStoreMismatchError) {
          // Retrying cannot help: publishing from a foreign position would skip or repeat history.
          this.logger.fatal({ err: error }, 'relay stopped: its checkpoint belongs to another event store');
          this.running = false;
          this.unwatch?.();
          this.unwatch = undefined;
          return;
        }
        failures++;
        this.positionKnown = false;
        this.logger.error({ err: error, failures }, 'relay batch failed; retrying from the last checkpoint');
        await this.sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  /** True when woken (or stopping) before `ms` passed. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.wakeRequested || !this.running) {
        resolve(true);
        return;
      }
      const timer = setTimeout(() => resolve(false), ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
