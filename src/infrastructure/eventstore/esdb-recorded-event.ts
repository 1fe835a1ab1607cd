import type { ResolvedEvent } from '@eventstore/db-client';
import { EventStoreServerUnsuitableError } from './errors';
import { eventMetadataSchema, jsonObjectSchema } from './event-json';
import type { GlobalPosition, RecordedEvent } from './event-store';

/** The client's recorded event, JSON or binary, ours or not. */
export type EsdbRecordedEvent = NonNullable<ResolvedEvent['event']>;

/**
 * What servers before 22.6 put in the position fields of stream reads (ulong max): not a
 * position. Taken as one it would sort after everything and poison any checkpoint.
 */
export const SENTINEL_POSITION = 18446744073709551615n;

/**
 * Why an event cannot be one this system wrote (we write JSON objects with JSON object metadata),
 * or undefined when it can. The client hands non-JSON data of a JSON event back as a string and
 * non-JSON metadata as bytes.
 */
export function foreignEventReason(event: EsdbRecordedEvent): string | undefined {
  if (!event.isJson) return 'binary (not application/json)';
  if (!jsonObjectSchema.safeParse(event.data).success) return 'data is not a JSON object';
  if (event.metadata !== undefined && !eventMetadataSchema.safeParse(event.metadata).success) return 'metadata is not a JSON object of ours';
  if (event.metadata !== undefined && (Array.isArray(event.metadata) || event.metadata instanceof Uint8Array)) return 'metadata is not a JSON object of ours';
  return undefined;
}

/** Port form of an event foreignEventReason accepted. Throws on the pre-22.6 sentinel position. */
export function toOwnRecordedEvent(event: EsdbRecordedEvent, commitPosition: bigint | undefined): RecordedEvent {
  const position: GlobalPosition | undefined =
    event.position ?? (commitPosition !== undefined ? { commit: commitPosition, prepare: commitPosition } : undefined);
  if (!position) throw new Error(`event ${event.id} in ${event.streamId} came without a position`);
  if (position.commit === SENTINEL_POSITION || position.prepare === SENTINEL_POSITION) {
    throw new EventStoreServerUnsuitableError(
      `EventStoreDB answered the position ${SENTINEL_POSITION} for event ${event.id} in ${event.streamId}: servers before 22.6 ` +
        'do not return positions on stream reads. Upgrade EventStoreDB/KurrentDB to 22.6 or later (docs/event-store.md)',
    );
  }
  return {
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    data: jsonObjectSchema.parse(event.data),
    metadata: eventMetadataSchema.parse(event.metadata ?? {}),
    revision: event.revision,
    position,
    createdAt: event.created,
  };
}
