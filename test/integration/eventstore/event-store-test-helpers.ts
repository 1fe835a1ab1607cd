import { randomUUID } from 'node:crypto';
import type { EventStore, GlobalPosition, NewEvent, RecordedEvent } from '../../../src/infrastructure/eventstore/event-store';
import { comparePositions } from '../../../src/infrastructure/eventstore/event-store';

/** Stream names unique per test and per run: EventStoreDB keeps its data between runs. */
export function uniqueStream(category: string): string {
  return `${category}-${randomUUID()}`;
}

export function newEvent(type: string, data: NewEvent['data'] = {}, extra: Partial<NewEvent> = {}): NewEvent {
  return { type, data, ...extra };
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function assertStrictlyIncreasing(positions: GlobalPosition[]): void {
  for (let index = 1; index < positions.length; index += 1) {
    if (comparePositions(positions[index - 1], positions[index]) >= 0) {
      throw new Error(`positions out of order at ${index}: ${String(positions[index - 1].commit)}:${String(positions[index - 1].prepare)} then ${String(positions[index].commit)}:${String(positions[index].prepare)}`);
    }
  }
}

/**
 * readAll after `after`, restricted to `streams`, once at least `count` of them are readable.
 * Waiting is needed on PostgreSQL, where a transaction running anywhere on the server (another test
 * suite) briefly holds back what readers may see; other writers' events are filtered out.
 */
export async function readAllOf(store: EventStore, after: GlobalPosition | undefined, streams: Set<string>, count: number): Promise<RecordedEvent[]> {
  let found: RecordedEvent[] = [];
  await waitFor(`${count} events in readAll`, async () => {
    found = (await store.readAll(after === undefined ? {} : { after })).filter((event) => streams.has(event.streamId));
    return found.length >= count;
  });
  return found;
}

/** Collects what a subscription delivers; `onEvent` can be made to block to test stop(). */
export class DeliveryRecorder {
  readonly delivered: RecordedEvent[] = [];
  readonly errors: Error[] = [];

  constructor(private readonly streams?: Set<string>) {}

  readonly onEvent = async (event: RecordedEvent): Promise<void> => {
    if (!this.streams || this.streams.has(event.streamId)) this.delivered.push(event);
  };

  readonly onError = (error: Error): void => {
    this.errors.push(error);
  };

  ids(): string[] {
    return this.delivered.map((event) => event.id);
  }

  waitForCount(count: number, timeoutMs?: number): Promise<void> {
    return waitFor(`${count} delivered events (have ${this.delivered.length})`, () => this.delivered.length >= count, timeoutMs);
  }
}

export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

export function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
