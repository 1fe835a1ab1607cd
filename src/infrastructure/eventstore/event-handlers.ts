import type { DomainEventOfType, DomainEventType } from '../../domain/domain-events';
import { decodeRecordedEvent } from './event-decoding';
import type { RecordedEvent } from './event-store';

/**
 * What a consumer does with each event type it handles, keyed by type name: the key is checked
 * against the domain's registry (src/domain/domain-events.ts) and each handler receives its event
 * decoded and typed, e.g. `MatchCompleted: (event) => event.data.winnerId`. A misspelt type or a
 * renamed field fails to compile.
 */
export type EventHandlers<Context> = {
  [Type in DomainEventType]?: (event: RecordedEvent<DomainEventOfType<Type>>, context: Context) => Promise<void>;
};

/** The type names a handler map handles: the projection's `handles`, derived, never written twice. */
export function handledTypes<Context>(handlers: EventHandlers<Context>): DomainEventType[] {
  return Object.keys(handlers) as DomainEventType[];
}

/**
 * Decodes a stored event (upcast, then checked against its schema) and calls its handler; an event
 * without a handler is ignored unread. Undecodable data throws EventDataError, which projections
 * quarantine (src/projections/projection-quarantine.ts); workers leave it to the bus (retries, then the dead-letter topic).
 */
export function eventDispatcher<Context>(handlers: EventHandlers<Context>): (recorded: RecordedEvent, context: Context) => Promise<void> {
  const byType = handlers as Partial<Record<string, (event: RecordedEvent<DomainEventOfType<DomainEventType>>, context: Context) => Promise<void>>>;
  return async (recorded, context) => {
    const handler = byType[recorded.type];
    if (handler === undefined) return;
    await handler(decodeRecordedEvent(recorded) as RecordedEvent<DomainEventOfType<DomainEventType>>, context);
  };
}
