import type { JsonValue } from '../eventstore/event-store';

/**
 * SnapshotStore port: folded aggregate states of long streams, each stored with the revision it
 * folds up to. A snapshot is an optimisation, never the truth: whoever reads one checks it against
 * the stream (the event id at its revision) and reads the stream instead when it does not match,
 * when its schema or version differ, or when there is none. Deleting every snapshot changes no
 * answer. Adapters pass test/integration/snapshots/snapshot-store.contract.ts.
 */
export interface StoredSnapshot {
  streamId: string;
  /** Revision of the last event folded into `state`. */
  revision: bigint;
  /** Id of the event at `revision`: the snapshot belongs to the stream only while that event is there. */
  eventId: string;
  /** Which state encoding (the aggregate's name) and its version. */
  schema: string;
  version: number;
  state: JsonValue;
}

export interface SnapshotStore {
  /** The latest snapshot of the stream, or null. */
  load(streamId: string): Promise<StoredSnapshot | null>;
  /** Keeps the snapshot unless one at a later revision is already stored. */
  save(snapshot: StoredSnapshot): Promise<void>;
  /** Removes every snapshot; returns how many there were. */
  deleteAll(): Promise<number>;
}
