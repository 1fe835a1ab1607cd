import type { DeliveredMessage } from './message-bus';

/** Messages held per partition, at most; past it a partition's run is dropped and read from the table. */
const MAX_MESSAGES = 1000;
/** Bytes of values held per consumer, at most (a burst of large events is read from the table instead). */
const MAX_BYTES = 16 * 1024 * 1024;

/**
 * Messages that a publish of this process committed, kept for one consumer so it can handle them
 * without reading them back from bus.messages. Only a copy of committed rows: the table stays the
 * truth, and whatever is not held here (published by another process, dropped for size, before a
 * restart) is read from it as before. Per partition, one run of consecutive offsets.
 */
export class PublishedMessages {
  private readonly runs = new Map<string, DeliveredMessage[]>();
  private bytes = 0;

  /** Keeps `messages` (consecutive offsets of one partition) after the partition's run when they continue it; otherwise they start a new run. */
  add(key: string, messages: readonly DeliveredMessage[]): void {
    if (messages.length === 0) return;
    const run = this.runs.get(key);
    const continues = run !== undefined && run.length > 0 && BigInt(run[run.length - 1]!.offset) + 1n === BigInt(messages[0]!.offset);
    const size = bytesOf(messages);
    if (!continues) this.drop(key);
    const kept = continues ? run : [];
    if (kept.length + messages.length > MAX_MESSAGES || this.bytes + size > MAX_BYTES) {
      this.drop(key); // too much to hold: the table has them
      return;
    }
    kept.push(...messages);
    this.runs.set(key, kept);
    this.bytes += size;
  }

  /**
   * The held messages of the partition from `position` on (up to `maxMessages`, and while fewer than
   * `maxBytes` of values come before one), when the run holds `position`; undefined otherwise (read
   * the table). Messages before `position` are handled: they are let go.
   */
  from(key: string, position: bigint, maxMessages: number, maxBytes: number): DeliveredMessage[] | undefined {
    const run = this.runs.get(key);
    if (run === undefined) return undefined;
    const first = BigInt(run[0]!.offset);
    const last = first + BigInt(run.length) - 1n;
    if (position > last) {
      this.drop(key);
      return undefined;
    }
    if (position < first) return undefined;
    const skip = Number(position - first);
    if (skip > 0) {
      this.bytes -= bytesOf(run.slice(0, skip));
      run.splice(0, skip);
    }
    const batch: DeliveredMessage[] = [];
    let before = 0;
    for (const message of run) {
      if (batch.length >= maxMessages || before >= maxBytes) break;
      batch.push(message);
      before += message.value.length;
    }
    return batch;
  }

  /** Lets go of the partition's messages before `position` (handled and committed): nothing handled stays held. */
  release(key: string, position: bigint): void {
    const run = this.runs.get(key);
    if (run === undefined) return;
    const handled = run.findIndex((message) => BigInt(message.offset) >= position);
    if (handled === -1) return this.drop(key);
    if (handled > 0) this.bytes -= bytesOf(run.splice(0, handled));
  }

  /** Lets a partition's run go (handed over, or no longer to be trusted). */
  drop(key: string): void {
    const run = this.runs.get(key);
    if (run === undefined) return;
    this.bytes -= bytesOf(run);
    this.runs.delete(key);
  }

  clear(): void {
    this.runs.clear();
    this.bytes = 0;
  }
}

const bytesOf = (messages: readonly DeliveredMessage[]): number => messages.reduce((sum, message) => sum + message.value.length, 0);
