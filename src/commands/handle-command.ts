import { randomUUID } from 'node:crypto';
import type { Decider, DomainEvent } from '../domain/shared/decider';
import { WrongExpectedRevisionError } from '../infrastructure/eventstore/errors';
import { toNewEvent } from '../infrastructure/eventstore/event-decoding';
import type { EventMetadata, EventStore, GlobalPosition } from '../infrastructure/eventstore/event-store';
import { emptyState, WholeStreamSource, type Evolver, type LoadedState, type StateSource } from './state-source';

export { toDomainEvent } from './state-source';

export interface CommandOutcome<State, Event extends DomainEvent> {
  /** Events this command appended (empty when the decider decided nothing changes). */
  events: Event[];
  /** State after the new events. */
  state: State;
  /** Revision of the stream's last event after the command; null when the stream is still empty. */
  revision: bigint | null;
  position: GlobalPosition | null;
}

export interface HandleCommandOptions<State, Event extends DomainEvent> {
  metadata?: EventMetadata;
  /** Attempts when concurrent writers keep winning; 5 unless said. */
  maxAttempts?: number;
  /** Where the current state comes from; the whole stream unless said (see StateSource). */
  source?: StateSource<State>;
  /** Ids for the decided events (deterministic ids make a retried append idempotent); random when absent. */
  eventIds?: (events: Event[]) => string[];
  /**
   * The stream id was just generated (a random UUID): decide on the empty stream without reading it.
   * The append expects no stream, so a stream that exists after all is a conflict, and the command
   * is decided again on the state read from the store, as for any stale state.
   */
  newStream?: boolean;
}

/** The stream's current state outside a command (guards, answers): from `source`, else folded from its first event. */
export async function loadAggregate<State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Evolver<State, Event>,
  source?: StateSource<State>,
): Promise<{ state: State; revision: bigint | null }> {
  const { state, revision } = await (source ?? new WholeStreamSource(store, decider)).load(streamId, { afterConflict: false });
  return { state, revision };
}

/**
 * The command handler, the only one: load the state (from the source: whole stream, memory or
 * snapshot), decide, append with the expected revision. A concurrent writer makes the append fail;
 * the command is then decided again on fresh state, a bounded number of times.
 */
export async function handleCommand<Command, State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  options: HandleCommandOptions<State, Event> = {},
): Promise<CommandOutcome<State, Event>> {
  const maxAttempts = options.maxAttempts ?? 5;
  const source: StateSource<State> = options.source ?? new WholeStreamSource(store, decider);
  const remembered = options.newStream === true ? emptyState(decider) : source.remembered?.(streamId);
  if (remembered !== undefined) {
    // Decided on the remembered state without reading: only an append can come of it, and its
    // expected revision checks that state. Anything else (no events, a refusal, a conflict) is
    // decided again below on the state read from the store.
    const appended = await appendOnRemembered(store, streamId, decider, command, options, source, remembered);
    if (appended !== undefined) return appended;
  }
  for (let attempt = 1; ; attempt++) {
    const before = await source.load(streamId, { afterConflict: attempt > 1 || remembered !== undefined });
    const events = decider.decide(command, before.state);
    if (events.length === 0) return { events, state: before.state, revision: before.revision, position: null };
    try {
      return await appendDecided(store, streamId, decider, events, options, source, before);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError && attempt < maxAttempts) continue;
      throw error;
    }
  }
}

/** The outcome of deciding on a remembered state, when that led to an append; undefined otherwise. */
async function appendOnRemembered<Command, State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  options: HandleCommandOptions<State, Event>,
  source: StateSource<State>,
  remembered: LoadedState<State>,
): Promise<CommandOutcome<State, Event> | undefined> {
  let events: Event[];
  try {
    events = decider.decide(command, remembered.state);
  } catch {
    return undefined; // refused on a state that may be stale: decided again on a read one
  }
  if (events.length === 0) return undefined;
  try {
    return await appendDecided(store, streamId, decider, events, options, source, remembered);
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) return undefined;
    throw error;
  }
}

/** Appends the decided events with `before`'s revision as the expected one, and tells the source. */
async function appendDecided<State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Evolver<State, Event>,
  events: Event[],
  options: HandleCommandOptions<State, Event>,
  source: StateSource<State>,
  before: LoadedState<State>,
): Promise<CommandOutcome<State, Event>> {
  const ids = options.eventIds?.(events) ?? events.map(() => randomUUID());
  const result = await store.append(
    streamId,
    events.map((event, index) => toNewEvent(event, options.metadata, ids[index])),
    { expectedRevision: before.revision === null ? 'no_stream' : before.revision },
  );
  const after: LoadedState<State> = {
    state: events.reduce(decider.evolve, before.state),
    revision: result.nextExpectedRevision,
    lastEventId: ids[ids.length - 1]!,
  };
  await source.appended(streamId, before, after);
  return { events, state: after.state, revision: after.revision, position: result.position };
}
