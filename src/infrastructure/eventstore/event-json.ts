import { z } from 'zod';
import type { EventMetadata, JsonObject, JsonValue } from './event-store';

/**
 * Validation of event payloads read back from a store. Both engines only ever hand back what was
 * stored as JSON (jsonb / ESDB JSON events), so a deep walk of every value would cost time on large
 * telemetry batches without catching anything: we check the top-level shape the port promises.
 */

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export const jsonObjectSchema = z.custom<JsonObject>(isJsonObject, 'expected a JSON object');

const jsonValueSchema = z.custom<JsonValue>((value) => value !== undefined, 'expected a JSON value');

/** Metadata is a JSON object whose well-known keys, when present, are strings. */
export const eventMetadataSchema: z.ZodType<EventMetadata> = z
  .object({
    correlationId: z.string().optional(),
    causationId: z.string().optional(),
    userId: z.string().optional(),
  })
  .catchall(jsonValueSchema);

/** Loose RFC 4122 shape (any version): deterministic v5 ids are as welcome as random v4 ones. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The ids of a batch about to be appended: given ones validated and lower-cased (both engines
 * return lower case, so retries compare equal), missing ones generated.
 */
export function eventIdsFor(events: ReadonlyArray<{ id?: string }>, generate: () => string): string[] {
  const ids = events.map((event) => {
    const id = event.id ?? generate();
    if (!UUID_PATTERN.test(id)) throw new TypeError(`event id is not a UUID: ${id}`);
    return id.toLowerCase();
  });
  if (new Set(ids).size !== ids.length) throw new TypeError('an append must not contain the same event id twice');
  return ids;
}
