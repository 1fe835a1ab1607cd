/**
 * Runs async work one at a time per key, in the order it was asked for; work under different keys
 * runs concurrently. A failure is the caller's alone: the next work for the key still runs.
 */
export class KeyedSerialRunner {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running (for tests: the map does not grow with keys used once). */
  get busyKeys(): number {
    return this.tails.size;
  }
}
