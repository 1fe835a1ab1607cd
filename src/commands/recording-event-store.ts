import type { AppendedEvents, AppendOptions, AppendResult, EventStore, NewEvent, RecordedEvent } from '../infrastructure/eventstore/event-store';
import { EventStoreDecorator } from '../infrastructure/eventstore/event-store-decorator';

export interface RecordingOptions {
  /** Streams whose latest appends are kept, at most (the least recently appended go first). Default 1,000. */
  maxStreams?: number;
  /** Length of the events' JSON texts kept, at most. Default 8 MiB. */
  maxTextLength?: number;
}

/**
 * The process's store as its API commands use it: everything goes to the store underneath, and the
 * latest events appended through it are kept (when the store answers them, AppendOptions.onRecorded),
 * bounded, so read-your-writes applies a command's own events without reading them back
 * (`appendedFrom`). An event stored at a stream's revision never changes (streams are append-only),
 * so what is kept stays true; what is not kept (dropped for room, another process's appends) is read.
 */
export class RecordingEventStore extends EventStoreDecorator {
  private readonly appended = new Map<string, AppendedEvents[]>();
  private textLength = 0;
  private readonly maxStreams: number;
  private readonly maxTextLength: number;

  constructor(inner: EventStore, options: RecordingOptions = {}) {
    super(inner);
    this.maxStreams = options.maxStreams ?? 1000;
    this.maxTextLength = options.maxTextLength ?? 8 * 1024 * 1024;
  }

  append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    return this.inner.append(streamId, events, {
      ...options,
      onRecorded: (recorded) => {
        options.onRecorded?.(recorded);
        this.keep(streamId, recorded);
      },
    });
  }

  /**
   * The kept events of `streamId` from `fromRevision` on, in revision order, when they cover every
   * revision from there to their last (undefined otherwise: read them).
   */
  appendedFrom(streamId: string, fromRevision: bigint): RecordedEvent[] | undefined {
    const batches = this.appended.get(streamId);
    if (batches === undefined) return undefined;
    const covering = batches.filter((batch) => batch.last >= fromRevision).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let next = fromRevision;
    for (const batch of covering) {
      if (batch.first > next) return undefined; // a revision nobody kept
      if (batch.last >= next) next = batch.last + 1n;
    }
    if (next === fromRevision) return undefined;
    const events = new Map<bigint, RecordedEvent>();
    for (const batch of covering) for (const event of batch.events()) if (event.revision >= fromRevision) events.set(event.revision, event);
    return [...events.values()].sort((a, b) => (a.revision < b.revision ? -1 : 1));
  }

  private keep(streamId: string, recorded: AppendedEvents): void {
    if (recorded.textLength > this.maxTextLength) return;
    const batches = this.appended.get(streamId) ?? [];
    this.appended.delete(streamId); // re-inserted last: the most recently appended stream
    batches.push(recorded);
    this.appended.set(streamId, batches);
    this.textLength += recorded.textLength;
    // A stream keeps its few latest appends; the least recently appended streams go first.
    while (batches.length > 4) this.textLength -= batches.shift()!.textLength;
    while (this.appended.size > this.maxStreams || this.textLength > this.maxTextLength) {
      const [oldest, dropped] = this.appended.entries().next().value as [string, AppendedEvents[]];
      this.appended.delete(oldest);
      this.textLength -= dropped.reduce((sum, batch) => sum + batch.textLength, 0);
    }
  }
}
