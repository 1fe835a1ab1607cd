import { randomUUID } from 'node:crypto';
import type { Decider, DomainEvent } from '../domain/shared/decider';
import { WrongExpectedRevisionError } from '../infrastructure/eventstore/errors';
import { toNewEvent } from '../infrastructure/eventstore/event-decoding';
import type { EventMetadata, EventStore, GlobalPosition } from '../infrastructure/eventstore/event-store';
import { WholeStreamSource, type Evolver, type LoadedState, type StateSource } from './state-source';

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
  const source = options.source ?? new WholeStreamSource(store, decider);
  for (let attempt = 1; ; attempt++) {
    const before = await source.load(streamId, { afterConflict: attempt > 1 });
    const events = decider.decide(command, before.state);
    if (events.length === 0) return { events, state: before.state, revision: before.revision, position: null };
    const ids = options.eventIds?.(events) ?? events.map(() => randomUUID());
    try {
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
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError && attempt < maxAttempts) continue;
      throw error;
    }
  }
}
