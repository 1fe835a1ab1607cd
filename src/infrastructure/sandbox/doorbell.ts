/**
 * One shared counter that the pipe readers of a match ring (`Atomics.add` + `Atomics.notify`)
 * whenever they hand over bytes, and that the match thread sleeps on (`Atomics.wait`). Take a
 * ticket before looking for work, then wait on that ticket: a ring in between is never lost.
 */
/** Longest sleep without a look at the thread's own event loop (child exits, stderr, timers). */
const SLEEP_SLICE_MS = 2;
/** While answers keep coming, the event loop still gets a turn this often. */
const YIELD_EVERY_MS = 20;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Doorbell {
  readonly cells: Int32Array;
  private lastYieldAt = monotonicMs();

  constructor(shared: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cells = new Int32Array(shared, 0, 1);
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
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
