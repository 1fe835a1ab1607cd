import type { Decider, DomainEvent } from '../domain/shared/decider';
import { WrongExpectedRevisionError } from '../infrastructure/eventstore/errors';
import { toNewEvent, upcastRecordedEvent } from '../infrastructure/eventstore/event-decoding';
import type { EventMetadata, EventStore, GlobalPosition, RecordedEvent } from '../infrastructure/eventstore/event-store';

export interface CommandOutcome<State, Event extends DomainEvent> {
  /** Events this command appended (empty when the decider decided nothing changes). */
  events: Event[];
  /** State after the new events. */
  state: State;
  /** Revision of the stream's last event after the command; null when the stream is still empty. */
  revision: bigint | null;
  position: GlobalPosition | null;
}

/** A stored event as its decider folds it: upcast to its type's current schema version. */
export function toDomainEvent<Event extends DomainEvent>(recorded: RecordedEvent): Event {
  return upcastRecordedEvent<Event>(recorded);
}

export async function loadAggregate<State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<unknown, State, Event>, 'initialState' | 'evolve'>,
): Promise<{ state: State; revision: bigint | null }> {
  const recorded = await store.readStream(streamId);
  const state = recorded.map((r) => toDomainEvent<Event>(r)).reduce(decider.evolve, decider.initialState());
  return { state, revision: recorded.length ? recorded[recorded.length - 1].revision : null };
}

/**
 * Load the stream, fold it, decide, append with the expected revision. A concurrent writer makes the
 * append fail; the command is then decided again on the fresh state, a bounded number of times.
 */
export async function handleCommand<Command, State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  options: { metadata?: EventMetadata; maxAttempts?: number } = {},
): Promise<CommandOutcome<State, Event>> {
  const maxAttempts = options.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const { state, revision } = await loadAggregate(store, streamId, decider);
    const events = decider.decide(command, state);
    if (events.length === 0) return { events, state, revision, position: null };
    try {
      const result = await store.append(
        streamId,
        events.map((event) => toNewEvent(event, options.metadata)),
        { expectedRevision: revision === null ? 'no_stream' : revision },
      );
      return {
        events,
        state: events.reduce(decider.evolve, state),
        revision: result.nextExpectedRevision,
        position: result.position,
      };
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError && attempt < maxAttempts) continue;
      throw error;
    }
  }
}
