import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../commands/command-context';
import type { Consumer } from '../infrastructure/bus/message-bus';
import type { CommandServices } from '../commands/command-states';
import type { StoredEventFields } from '../infrastructure/eventstore/event-store';
import { decodeEnvelope, topicForCategory } from '../infrastructure/bus/event-envelope';
import { eventDispatcher, type EventHandlers } from '../infrastructure/eventstore/event-handlers';

/** The command context of a worker reacting to `cause`: the correlation carries through. */
export function workerCommandContext(services: CommandServices, role: string, cause?: Pick<StoredEventFields, 'id' | 'metadata'>): CommandContext {
  return {
    store: services.store,
    now: services.now,
    newId: services.newId,
    states: services.commandStates,
    metadata: {
      correlationId: cause?.metadata.correlationId ?? randomUUID(),
      causationId: cause?.id ?? randomUUID(),
      worker: role,
    },
  };
}

/**
 * Subscribes a worker (group `worker.<role>`) to event categories, with one typed handler per event
 * type it reacts to (`{ MatchCompleted: async (event) => … }`); each sees its event decoded by the
 * domain's schema, upcast to the current version, and other types are skipped unread. A handler
 * that throws (or data that does not decode) is retried by the bus and then dead-lettered, so
 * handlers throw only for transient faults and turn everything else into events.
 */
export async function consumeEvents(services: CommandServices, role: string, categories: string[], handlers: EventHandlers<void>): Promise<Consumer> {
  const dispatch = eventDispatcher(handlers);
  const topics = categories.map((category) => topicForCategory(services.config.TOPIC_PREFIX, category));
  await services.bus.ensureTopics(topics);
  return services.bus.subscribe({
    groupId: `worker.${role}`,
    topics,
    fromBeginning: true,
    handler: async (message) => dispatch(decodeEnvelope(message.value), undefined),
  });
}
