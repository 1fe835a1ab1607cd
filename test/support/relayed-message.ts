import type { DeliveredMessage } from '../../src/infrastructure/bus/message-bus';
import { encodeEnvelope } from '../../src/infrastructure/bus/event-envelope';
import type { RecordedEvent } from '../../src/infrastructure/eventstore/event-store';

/** The message the relay publishes for a user stream's event, as a consumer receives it at `offset`. */
export function relayedMessage(event: RecordedEvent, offset: number): DeliveredMessage {
  return {
    topic: 'arena.user',
    partition: 0,
    offset: String(offset),
    key: event.streamId,
    value: encodeEnvelope(event),
    headers: { 'event-type': event.type, 'event-id': event.id, 'event-revision': event.revision.toString() },
  };
}
