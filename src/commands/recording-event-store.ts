import type { AppendOptions, AppendResult, EventStore, NewEvent, RecordedEvent } from '../infrastructure/eventstore/event-store';

/**
 * The store as one request's commands use it: everything goes to the process's store, and what
 * they append is remembered (when the store answers the appended events, AppendOptions.onRecorded), so
 * the request's read-your-writes can apply its own events without reading them back. Lives as long
 * as the request: nothing is shared between requests, nothing goes stale.
 */
export class RecordingEventStore implements EventStore {
  private readonly appended = new Map<string, Array<() => RecordedEvent[]>>();

  constructor(private readonly inner: EventStore) {
    // Optional capabilities stay optional: present here exactly when the adapter has them.
    if (inner.watchAppends) this.watchAppends = (wake) => inner.watchAppends?.(wake) ?? (() => undefined);
    if (inner.hasEventsAfter) this.hasEventsAfter = (after) => inner.hasEventsAfter?.(after) ?? Promise.resolve(false);
  }

  append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    return this.inner.append(streamId, events, {
      ...options,
      onRecorded: (recorded) => {
        options.onRecorded?.(recorded);
        const list = this.appended.get(streamId) ?? [];
        list.push(recorded);
        this.appended.set(streamId, list);
      },
    });
  }

  /**
   * The events appended through this store to `streamId` from `fromRevision` on, in revision order,
   * when they cover every revision from there to their last (undefined otherwise: read them).
   */
  appendedFrom(streamId: string, fromRevision: bigint): RecordedEvent[] | undefined {
    const batches = this.appended.get(streamId);
    if (batches === undefined) return undefined;
    const events = batches
      .flatMap((recorded) => recorded())
      .filter((event) => event.revision >= fromRevision)
      .sort((a, b) => (a.revision < b.revision ? -1 : a.revision > b.revision ? 1 : 0));
    if (events.length === 0 || events[0]!.revision !== fromRevision) return undefined;
    const gapless = events.every((event, index) => event.revision === fromRevision + BigInt(index));
    return gapless ? events : undefined;
  }

  readStream: EventStore['readStream'] = (streamId, options) => this.inner.readStream(streamId, options);
  readAll: EventStore['readAll'] = (options) => this.inner.readAll(options);
  subscribeToAll: EventStore['subscribeToAll'] = (options) => this.inner.subscribeToAll(options);
  ping: EventStore['ping'] = () => this.inner.ping();
  readonly watchAppends?: EventStore['watchAppends'];
  readonly hasEventsAfter?: EventStore['hasEventsAfter'];
  identity: EventStore['identity'] = () => this.inner.identity();
  close: EventStore['close'] = () => this.inner.close();
}
