import { domainEvents, type AnyDomainEvent, type DomainEventType } from '../../domain/domain-events';
import type { DomainEvent } from '../../domain/shared/decider';
import { SCHEMA_VERSION_KEY, storedSchemaVersion } from '../../domain/shared/event-schema';
import type { EventMetadata, JsonObject, NewEvent, RecordedEvent } from './event-store';

/**
 * Where stored events meet the domain's event schemas (src/domain/domain-events.ts), both ways:
 * a new event is written with its type's current schema version in its metadata, and a stored
 * event is read back upcast to the current version (docs/event-versioning.md).
 */

/** A domain event as the store takes it, stamped with its schema version. */
export function toNewEvent(event: DomainEvent, metadata: EventMetadata = {}, id?: string): NewEvent {
  return {
    ...(id === undefined ? {} : { id }),
    type: event.type,
    // Domain event data is plain JSON by construction: this is the one place the two type worlds meet.
    data: (domainEvents.has(event.type) ? domainEvents.toStored(event.type, event.data) : event.data) as JsonObject,
    metadata: { ...metadata, [SCHEMA_VERSION_KEY]: domainEvents.currentVersion(event.type) },
  };
}

/**
 * The stored event's data at the current schema version, unchecked: what a decider folds when it
 * loads its stream (the write side reads back what it wrote itself; validating every batch of a
 * long telemetry stream on each command would cost more than it protects).
 */
export function upcastRecordedEvent<Event extends DomainEvent>(recorded: RecordedEvent): Event {
  const version = storedSchemaVersion(recorded.type, recorded.metadata);
  const definition = domainEvents.definition(recorded.type);
  const data =
    definition === undefined || (version === definition.version && definition.storage === undefined)
      ? recorded.data
      : domainEvents.upcast(recorded.type, version, recorded.data);
  return { type: recorded.type, data } as unknown as Event;
}

/**
 * The stored event, upcast and checked against its type's schema: a typed event, discriminated by
 * `type`. Data that does not fit (or an unknown type) throws EventDataError, which projections
 * quarantine (src/projections/projection-quarantine.ts).
 */
export function decodeRecordedEvent(recorded: RecordedEvent): RecordedEvent<AnyDomainEvent> {
  const event = domainEvents.decode(recorded.type, storedSchemaVersion(recorded.type, recorded.metadata), recorded.data);
  return { ...storedFields(recorded), type: event.type, data: event.data } as RecordedEvent<AnyDomainEvent>;
}

/** Decodes only events of the given types; others give undefined (a consumer skips them unread). */
export function decodeRecordedEventOf<const Types extends readonly DomainEventType[]>(
  recorded: RecordedEvent,
  types: Types,
): RecordedEvent<Extract<AnyDomainEvent, { type: Types[number] }>> | undefined {
  if (!(types as readonly string[]).includes(recorded.type)) return undefined;
  return decodeRecordedEvent(recorded) as RecordedEvent<Extract<AnyDomainEvent, { type: Types[number] }>>;
}

function storedFields(recorded: RecordedEvent) {
  const { id, streamId, metadata, revision, position, createdAt } = recorded;
  return { id, streamId, metadata, revision, position, createdAt };
}
