import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../commands/command-context';
import type { Consumer } from '../infrastructure/bus/message-bus';
import type { Services } from '../infrastructure/services';
import type { RecordedEvent } from '../infrastructure/eventstore/event-store';
import { decodeEnvelope, topicForCategory } from '../projections/event-envelope';

/** The command context of a worker reacting to `cause`: the correlation carries through. */
export function workerCommandContext(services: Services, role: string, cause?: RecordedEvent): CommandContext {
  return {
    store: services.store,
    now: services.now,
    newId: services.newId,
    metadata: {
      correlationId: cause?.metadata.correlationId ?? randomUUID(),
      causationId: cause?.id ?? randomUUID(),
      worker: role,
    },
  };
}

/**
 * Subscribes a worker (group `worker.<role>`) to event categories; the handler sees decoded events.
 * A handler that throws is retried by the bus and then dead-lettered, so handlers throw only for
 * transient faults and turn everything else into events.
 */
export async function consumeEvents(
  services: Services,
  role: string,
  categories: string[],
  handler: (event: RecordedEvent) => Promise<void>,
): Promise<Consumer> {
  const topics = categories.map((category) => topicForCategory(services.config.TOPIC_PREFIX, category));
  await services.bus.ensureTopics(topics);
  return services.bus.subscribe({
    groupId: `worker.${role}`,
    topics,
    fromBeginning: true,
    handler: async (message) => handler(decodeEnvelope(message.value)),
  });
}
