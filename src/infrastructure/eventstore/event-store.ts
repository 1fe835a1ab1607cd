/**
 * EventStore port: the source of truth. Adapters: PostgreSQL (embedded default) and
 * EventStoreDB. Every adapter must pass test/integration/eventstore/event-store.contract.ts.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Who and what caused an event; carried from the HTTP request through every consumer. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  userId?: string;
  /** The schema version the event's data was written with; absent means 1 (docs/event-versioning.md). */
  schemaVersion?: number;
  [key: string]: JsonValue | undefined;
}

/** Expected revision of a stream for optimistic concurrency. A bigint is the exact revision (0-based) of the last event. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface NewEvent {
  /** UUID; generated when absent. A retried append with the same ids is idempotent. */
  id?: string;
  type: string;
  data: JsonObject;
  metadata?: EventMetadata;
}

/**
 * Global order in the store. For EventStoreDB: the commit/prepare positions of the transaction log.
 * For PostgreSQL: commit = the writing transaction id, prepare = the sequence value; readers order by both.
 * Positions compare by commit, then prepare.
 */
export interface GlobalPosition {
  commit: bigint;
  prepare: bigint;
}

/** Where and when an event was stored: what a recorded event adds to the domain event. */
export interface StoredEventFields {
  id: string;
  streamId: string;
  metadata: EventMetadata;
  /** 0-based revision of the event in its stream. */
  revision: bigint;
  position: GlobalPosition;
  createdAt: Date;
}

/**
 * An event as stored. Without a type argument its data is untyped JSON (what the stores and the
 * bus carry); `RecordedEvent<MatchCompleted>` (or a union of events) is a decoded one, with the
 * data of its type: src/infrastructure/eventstore/event-decoding.ts.
 */
export type RecordedEvent<Event extends { type: string; data: object } = { type: string; data: JsonObject }> = Event extends unknown
  ? StoredEventFields & { type: Event['type']; data: Event['data'] }
  : never;

export interface AppendResult {
  /** Revision of the last appended event: pass it as the expected revision of the next append. */
  nextExpectedRevision: bigint;
  position: GlobalPosition;
}

export interface AppendOptions {
  expectedRevision: ExpectedRevision;
  /**
   * Called once the append committed, with the appended events as a read of the stream would return
   * them, built on demand from what was sent and what the append answered (PostgreSQL: positions and
   * created_at), so a caller that needs them at once (the API's own-write apply) does not read them
   * back. Not called by stores that do not answer them with the append (EventStoreDB), nor for a
   * retried append. Values equal a read's; the keys of `data` and `metadata` keep the writer's
   * order where a read gives jsonb's.
   */
  onRecorded?: (recorded: AppendedEvents) => void;
}

/** What an append wrote, as AppendOptions.onRecorded gets it. */
export interface AppendedEvents {
  /** Revisions of the first and the last appended event. */
  first: bigint;
  last: bigint;
  /** Length of the events' JSON texts (data and metadata), for callers that bound what they keep. */
  textLength: number;
  /** The events, decoded on each call. */
  events: () => RecordedEvent[];
}

export interface ReadStreamOptions {
  direction?: 'forward' | 'backward';
  /** Inclusive start revision; forward defaults to 0, backward to the end. */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Omitted = from the beginning. */
  after?: GlobalPosition;
  maxCount?: number;
}

export interface SubscribeToAllOptions {
  /** Exclusive: deliver events strictly after this position. Omitted = from the beginning. */
  after?: GlobalPosition;
  /** Called once per event, in global order; the next event waits for the promise. */
  onEvent: (event: RecordedEvent) => Promise<void>;
  /** Called when the subscription stops because of an error (including one thrown by onEvent). */
  onError?: (error: Error) => void;
}

export interface Subscription {
  /** Stops delivering; resolves once no onEvent call is running. */
  stop(): Promise<void>;
}

/**
 * Which store, and which instance of it, positions belong to. Positions of one store mean nothing
 * in another (and nothing in another instance of the same kind): checkpoints record this.
 */
export interface StoreIdentity {
  kind: 'postgres' | 'esdb';
  /** A UUID created once per store instance (PostgreSQL: a row in `eventstore.store_identity`; EventStoreDB: an event). */
  instanceId: string;
}

export function formatStoreIdentity(identity: StoreIdentity): string {
  return `${identity.kind}:${identity.instanceId}`;
}

export interface EventStore {
  append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult>;
  /** Returns [] when the stream does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catches up from `after`, then follows live appends, in global order, never skipping a committed event. */
  subscribeToAll(options: SubscribeToAllOptions): Subscription;
  /**
   * Optional push: calls `wake` whenever an append may have committed (a hint without data: read by
   * position afterwards). Returns the removal. Stores without it are polled.
   */
  watchAppends?(wake: () => void): () => void;
  /**
   * Optional, for stores whose global reads hold back committed events while an older transaction
   * still runs (PostgreSQL, docs/event-store.md): true when committed events after `after` exist,
   * readable yet or not. A reader that read all it could and still gets true reads again soon,
   * since no further wake-up may come for events that were held back when the last one came.
   */
  hasEventsAfter?(after: GlobalPosition | undefined): Promise<boolean>;
  /** Resolves when the store answers what the relay needs (EventStoreDB: a read of $all); used by /readyz. */
  ping(): Promise<void>;
  /** This store's kind and instance id (created on first use); see StoreIdentity. */
  identity(): Promise<StoreIdentity>;
  close(): Promise<void>;
}

export function comparePositions(a: GlobalPosition, b: GlobalPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function formatPosition(position: GlobalPosition): string {
  return `${position.commit}:${position.prepare}`;
}

export function parsePosition(text: string): GlobalPosition {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match) throw new Error(`not a global position: ${text}`);
  return { commit: BigInt(match[1]), prepare: BigInt(match[2]) };
}

/** The stream's category: `user-123` -> `user`. Topics on the bus are per category. */
export function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash === -1 ? streamId : streamId.slice(0, dash);
}
