import { arenaEvents } from './arena/arena-events';
import { identityEvents } from './identity/identity-events';
import { racingEvents } from './racing/racing-events';
import { EventRegistry, type RegisteredEvent } from './shared/event-registry';
import { trainingEvents } from './training/training-events';

/**
 * Every event the system writes, by type name: the contexts' registries combined. Consumers decode
 * with it (src/infrastructure/eventstore/event-decoding.ts); command handlers take the schema
 * version to write from it and upcast with it when they load a stream (docs/event-versioning.md).
 */
export const domainEvents = EventRegistry.combine(identityEvents, racingEvents, trainingEvents, arenaEvents);

/** Any event of the system: a union discriminated by `type`. */
export type AnyDomainEvent = RegisteredEvent<typeof domainEvents>;
export type DomainEventType = AnyDomainEvent['type'];
/** The event named `Type`, e.g. `DomainEventOfType<'MatchCompleted'>`. */
export type DomainEventOfType<Type extends DomainEventType> = Extract<AnyDomainEvent, { type: Type }>;
