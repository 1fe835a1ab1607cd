import { z } from 'zod';
import {
  formatPosition,
  parsePosition,
  streamCategory,
  type EventMetadata,
  type JsonObject,
  type RecordedEvent,
} from '../eventstore/event-store';

/**
 * How a stored event travels on the bus: JSON, bigints as decimal strings, keyed by stream id on the
 * topic of its stream's category (`<prefix><category>`). Consumers parse it with this schema.
 */
const jsonObject = z.record(z.string(), z.unknown()).transform((value) => value as JsonObject);

export const EventEnvelopeSchema = z.object({
  id: z.string().min(1),
  streamId: z.string().min(1),
  type: z.string().min(1),
  revision: z.string().regex(/^\d+$/),
  position: z.string().regex(/^\d+:\d+$/),
  createdAt: z.string(),
  data: jsonObject,
  metadata: jsonObject,
});

export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

export function encodeEnvelope(event: RecordedEvent): string {
  const envelope: EventEnvelope = {
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    revision: event.revision.toString(),
    position: formatPosition(event.position),
    createdAt: event.createdAt.toISOString(),
    data: event.data,
    metadata: event.metadata as JsonObject,
  };
  return JSON.stringify(envelope);
}

export function decodeEnvelope(text: string): RecordedEvent {
  const envelope = EventEnvelopeSchema.parse(JSON.parse(text));
  return {
    id: envelope.id,
    streamId: envelope.streamId,
    type: envelope.type,
    revision: BigInt(envelope.revision),
    position: parsePosition(envelope.position),
    createdAt: new Date(envelope.createdAt),
    data: envelope.data,
    metadata: envelope.metadata as EventMetadata,
  };
}

export const topicForCategory = (prefix: string, category: string): string => `${prefix}${category}`;
export const topicForStream = (prefix: string, streamId: string): string => topicForCategory(prefix, streamCategory(streamId));
