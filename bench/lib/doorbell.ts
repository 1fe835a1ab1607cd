/**
 * What the pipe readers of a match ring whenever they hand over bytes, and what the match thread
 * sleeps on (`Atomics.wait`). Two shared cells: [0] counts every chunk handed over; [1] is how
 * many more chunks the sleeper waits for: a reader notifies only when that reaches zero, so a
 * step whose two answers come one after the other wakes the match thread once, not twice.
 *
 * The sleeper takes a ticket, looks for work, says how many answers it still waits for
 * (`expect`), and sleeps only if the ticket has not moved meanwhile (else it looks again): a
 * chunk handed over later changes the ticket and counts towards the expected ones. A chunk that
 * is not a whole answer only wakes the sleeper early, never late.
 */
/** Longest sleep without a look at the thread's own event loop (child exits, stderr, timers). */
const SLEEP_SLICE_MS = 2;
/** While answers keep coming, the event loop still gets a turn this often. */
const YIELD_EVERY_MS = 20;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Doorbell {
  readonly cells: Int32Array;
  private lastYieldAt = monotonicMs();

  constructor(shared: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cells = new Int32Array(shared, 0, 2);
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  /** The number of chunks to wait for before being woken (the answers still missing). */
  expect(chunks: number): void {
    Atomics.store(this.cells, 1, chunks);
  }

  ticket(): number {
    return Atomics.load(this.cells, 0);
  }

  /** Sleeps until rung after `ticket` was taken, or `timeoutMs`; false on timeout. */
  wait(ticket: number, timeoutMs: number): boolean {
    return Atomics.wait(this.cells, 0, ticket, Math.max(0, timeoutMs)) !== 'timed-out';
  }

  /**
   * Waits for a ring after `ticket`, at most `timeoutMs`, and lets the thread's event loop run
   * when the bell stays silent for a slice (a child's exit, its stderr and timers are events
   * there) or when it has not run for a while.
   */
  async sleep(ticket: number, timeoutMs: number): Promise<void> {
    const rung = this.wait(ticket, Math.min(timeoutMs, SLEEP_SLICE_MS));
    const now = monotonicMs();
    if (rung && now - this.lastYieldAt < YIELD_EVERY_MS) return;
    this.lastYieldAt = now;
    await yieldToEventLoop();
  }
}

/** Monotonic milliseconds, the same clock in every thread of the process (unlike performance.now()). */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
