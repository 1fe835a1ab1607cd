import type { Logger } from '../logging/logger';
import type { GlobalPosition, RecordedEvent, SubscribeToAllOptions, Subscription } from './event-store';

export interface PollingSubscriptionSettings {
  /** Reads up to `maxCount` events strictly after `after`, in global order, never skipping a committed one. */
  readPage(after: GlobalPosition | undefined, maxCount: number): Promise<RecordedEvent[]>;
  /** True when committed events after `after` exist, including those `readPage` still holds back (PostgreSQL's horizon). */
  hasEventsAfter?(after: GlobalPosition | undefined): Promise<boolean>;
  /** Registers a callback that cuts the wait short (e.g. on NOTIFY); returns its removal. */
  registerWake(wake: () => void): () => void;
  pageSize: number;
  /** Longest wait between polls once caught up and nothing is held back: a safety net, wake-ups come first. */
  pollIntervalMs: number;
  logger: Logger;
}

/** Re-reads of events held back by an older transaction start this soon and back off to the max. */
const MIN_HELD_BACK_DELAY_MS = 2;
const MAX_HELD_BACK_DELAY_MS = 200;

/**
 * A subscription to $all built on repeated position-based reads: it catches up page by page, then
 * sleeps until woken or the poll interval passes, and reads again after the last delivered
 * position. Correctness (order, no gaps, no duplicates) rests entirely on `readPage`; wake-ups only
 * shorten the sleep.
 */
export class PollingSubscription implements Subscription {
  private stopping = false;
  private wakeRequested = false;
  private endSleep: (() => void) | undefined;
  private readonly finished: Promise<void>;

  constructor(
    private readonly options: SubscribeToAllOptions,
    private readonly settings: PollingSubscriptionSettings,
  ) {
    const unregisterWake = settings.registerWake(() => this.wake());
    this.finished = this.deliver().finally(unregisterWake);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.finished;
  }

  private wake(): void {
    this.wakeRequested = true;
    const endSleep = this.endSleep;
    this.endSleep = undefined;
    endSleep?.();
  }

  private async deliver(): Promise<void> {
    let after = this.options.after;
    let heldBackDelayMs = MIN_HELD_BACK_DELAY_MS / 2;
    try {
      while (!this.stopping) {
        // Cleared before reading, so a wake-up that arrives during the read triggers another read.
        this.wakeRequested = false;
        const page = await this.settings.readPage(after, this.settings.pageSize);
        for (const event of page) {
          if (this.stopping) return;
          await this.options.onEvent(event);
          after = event.position;
        }
        if (page.length < this.settings.pageSize) {
          // Held back behind an older transaction: look again soon, whether or not a NOTIFY comes.
          if (await this.settings.hasEventsAfter?.(after)) {
            heldBackDelayMs = Math.min(heldBackDelayMs * 2, MAX_HELD_BACK_DELAY_MS);
            await this.sleep(heldBackDelayMs);
          } else {
            heldBackDelayMs = MIN_HELD_BACK_DELAY_MS / 2;
            await this.sleep(this.settings.pollIntervalMs);
          }
        }
      }
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      if (this.options.onError) this.options.onError(error);
      else this.settings.logger.error({ err: error }, 'event store subscription stopped by an error');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.wakeRequested || this.stopping) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        this.endSleep = undefined;
        resolve();
      }, ms);
      this.endSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
