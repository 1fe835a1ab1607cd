import type { Decider, DomainEvent } from '../domain/shared/decider';
import { upcastRecordedEvent } from '../infrastructure/eventstore/event-decoding';
import type { EventStore, RecordedEvent } from '../infrastructure/eventstore/event-store';

/** A stream's folded state and where it stands. */
export interface LoadedState<State> {
  state: State;
  /** Revision of the last event folded in; null for a stream with no events. */
  revision: bigint | null;
  /** Id of the event at `revision` (null with it): what a snapshot of this state is checked against. */
  lastEventId: string | null;
}

/**
 * Where the command handler gets an aggregate's current state (`handleCommand`). Every source gives
 * exactly the state a fold of the whole stream gives: streams are append-only, so a remembered
 * state plus the events after its revision is that fold. Sources differ only in what they read.
 */
export interface StateSource<State> {
  /**
   * The current state. `afterConflict`: the previous attempt's append met a concurrent writer, so
   * whatever was remembered is stale.
   */
  load(streamId: string, options: { afterConflict: boolean }): Promise<LoadedState<State>>;
  /** The handler appended; `after` is the state after the appended events. */
  appended(streamId: string, before: LoadedState<State>, after: LoadedState<State>): Promise<void>;
  /**
   * The state this source remembers for the stream, without reading: possibly stale (another
   * process may have appended since). Only for a decision that the append's expected revision then
   * checks (handleCommand); undefined when nothing is remembered.
   */
  remembered?(streamId: string): LoadedState<State> | undefined;
}

export type Evolver<State, Event extends DomainEvent> = Pick<Decider<unknown, State, Event>, 'initialState' | 'evolve'>;

export const emptyState = <State>(decider: Pick<Decider<unknown, State, DomainEvent>, 'initialState'>): LoadedState<State> => ({
  state: decider.initialState(),
  revision: null,
  lastEventId: null,
});

/** A stored event as its decider folds it: upcast to its type's current schema version. */
export function toDomainEvent<Event extends DomainEvent>(recorded: RecordedEvent): Event {
  return upcastRecordedEvent<Event>(recorded);
}

/** Folds recorded events (in stream order) into a loaded state. */
export function foldRecorded<State, Event extends DomainEvent>(
  decider: Evolver<State, Event>,
  from: LoadedState<State>,
  recorded: readonly RecordedEvent[],
): { loaded: LoadedState<State>; events: Event[] } {
  if (recorded.length === 0) return { loaded: from, events: [] };
  const events = recorded.map((r) => toDomainEvent<Event>(r));
  const last = recorded[recorded.length - 1]!;
  return { loaded: { state: events.reduce(decider.evolve, from.state), revision: last.revision, lastEventId: last.id }, events };
}

/** Reads the events after `from` and folds them in: one read. */
export async function readAfter<State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Evolver<State, Event>,
  from: LoadedState<State>,
): Promise<{ loaded: LoadedState<State>; events: Event[] }> {
  const recorded = await store.readStream(streamId, from.revision === null ? {} : { fromRevision: from.revision + 1n });
  return foldRecorded(decider, from, recorded);
}

/** Reads and folds the whole stream on every load: right for short streams (users, claims, matches). */
export class WholeStreamSource<State, Event extends DomainEvent> implements StateSource<State> {
  constructor(
    private readonly store: EventStore,
    private readonly decider: Evolver<State, Event>,
  ) {}

  async load(streamId: string): Promise<LoadedState<State>> {
    return (await readAfter(this.store, streamId, this.decider, emptyState(this.decider))).loaded;
  }

  async appended(): Promise<void> {}
}
