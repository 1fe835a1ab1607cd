import type { DomainEvent } from '../domain/shared/decider';
import type { EventStore } from '../infrastructure/eventstore/event-store';
import type { SnapshotStore } from '../infrastructure/snapshots/snapshot-store';
import type { SnapshotCodec } from './snapshot-codec';
import { emptyState, foldRecorded, readAfter, type Evolver, type LoadedState, type StateSource } from './state-source';

const DEFAULT_PROBE = 16;

export interface SnapshotPolicy {
  /**
   * Events read before a snapshot is looked up (16, or `every` when smaller, unless said): a stream
   * shorter than this is read whole, in one read, as without snapshots.
   */
  probe?: number;
  /** A snapshot is saved each time a stream's length crosses a multiple of this many events. */
  every: bigint;
  /** A snapshot could not be read, decoded or saved: the command goes on from the stream. */
  onSnapshotError?: (error: unknown, streamId: string) => void;
}

/**
 * Loads a long stream from its latest snapshot plus the events after it. The snapshot is checked
 * against the stream before it is used: its schema and version must be the codec's and the event
 * at its revision must still be the one it folded (so a snapshot of another store, or of a store
 * restored to an older state, is never believed). Anything else, or no snapshot, and the whole
 * stream is read, exactly as without snapshots.
 */
export class SnapshotStateSource<State, Event extends DomainEvent> implements StateSource<State> {
  constructor(
    private readonly store: EventStore,
    private readonly decider: Evolver<State, Event>,
    private readonly snapshots: SnapshotStore,
    private readonly codec: SnapshotCodec<State>,
    private readonly policy: SnapshotPolicy,
  ) {}

  async load(streamId: string): Promise<LoadedState<State>> {
    // A stream shorter than the probe is read whole in the one read it costs without snapshots:
    // creating or changing a short stream never pays a snapshot lookup.
    // A stream shorter than `every` has no snapshot to look up.
    const probeSize = this.policy.probe ?? Math.min(DEFAULT_PROBE, Number(this.policy.every));
    const probe = await this.store.readStream(streamId, { maxCount: probeSize });
    const head = foldRecorded(this.decider, emptyState(this.decider), probe).loaded;
    if (probe.length < probeSize) return head;
    const fromSnapshot = await this.loadFromSnapshot(streamId, head);
    if (fromSnapshot !== null) return fromSnapshot;
    const { loaded } = await readAfter(this.store, streamId, this.decider, head);
    if (loaded.revision !== null && loaded.revision + 1n >= this.policy.every) await this.save(streamId, loaded);
    return loaded;
  }

  async appended(streamId: string, before: LoadedState<State>, after: LoadedState<State>): Promise<void> {
    const lengthBefore = before.revision === null ? 0n : before.revision + 1n;
    const lengthAfter = after.revision === null ? 0n : after.revision + 1n;
    if (lengthAfter / this.policy.every > lengthBefore / this.policy.every) await this.save(streamId, after);
  }

  private async loadFromSnapshot(streamId: string, head: LoadedState<State>): Promise<LoadedState<State> | null> {
    let state: State;
    let snapshot;
    try {
      snapshot = await this.snapshots.load(streamId);
      if (snapshot === null || snapshot.schema !== this.codec.schema || snapshot.version !== this.codec.version) return null;
      // Not past what the probe read already: the snapshot would save nothing.
      if (head.revision !== null && snapshot.revision <= head.revision) return null;
      state = this.codec.decode(snapshot.state);
    } catch (error) {
      this.policy.onSnapshotError?.(error, streamId);
      return null;
    }
    // From the snapshot's own revision: its event must still be there, with the same id.
    const recorded = await this.store.readStream(streamId, { fromRevision: snapshot.revision });
    const anchor = recorded[0];
    if (anchor === undefined || anchor.revision !== snapshot.revision || anchor.id !== snapshot.eventId) return null;
    return foldRecorded(this.decider, { state, revision: snapshot.revision, lastEventId: snapshot.eventId }, recorded.slice(1)).loaded;
  }

  private async save(streamId: string, loaded: LoadedState<State>): Promise<void> {
    if (loaded.revision === null || loaded.lastEventId === null) return;
    try {
      await this.snapshots.save({
        streamId,
        revision: loaded.revision,
        eventId: loaded.lastEventId,
        schema: this.codec.schema,
        version: this.codec.version,
        state: this.codec.encode(loaded.state),
      });
    } catch (error) {
      this.policy.onSnapshotError?.(error, streamId);
    }
  }
}
