import type { Knex } from 'knex';
import { z } from 'zod';
import { eventMetadataSchema, isJsonObject, jsonObjectSchema } from './event-json';
import type { RecordedEvent } from './event-store';

/** Channel the append NOTIFYs on commit; subscribers only use it as a wake-up, never as data. */
export const APPENDED_CHANNEL = 'eventstore_appended';

export const UNIQUE_VIOLATION = '23505';
export const STREAM_REVISION_CONSTRAINT = 'events_stream_revision_key';
export const EVENT_ID_CONSTRAINT = 'events_event_id_key';

/**
 * Statements are idempotent (IF NOT EXISTS) and run under a transaction-scoped advisory lock, so
 * several processes starting at once do not race on the catalog.
 *
 * - `streams.current_revision` is the row every append of a stream locks (SELECT ... FOR UPDATE),
 *   which serialises appends per stream while different streams append concurrently.
 * - `events.transaction_id` (xid8, defaulting to the writer's transaction id) is what makes global
 *   reads gap-free: see docs/event-store.md.
 * - UNIQUE (stream_id, revision) backs up the row lock and serves stream reads;
 *   (transaction_id, global_position) serves reads of $all in global order.
 */
const MIGRATION_STATEMENTS = [
  `CREATE SCHEMA IF NOT EXISTS eventstore`,
  `CREATE TABLE IF NOT EXISTS eventstore.streams (
     stream_id text PRIMARY KEY,
     current_revision bigint NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS eventstore.events (
     global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
     event_id uuid NOT NULL,
     stream_id text NOT NULL REFERENCES eventstore.streams (stream_id),
     revision bigint NOT NULL CHECK (revision >= 0),
     type text NOT NULL,
     data jsonb NOT NULL,
     metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
     created_at timestamptz NOT NULL DEFAULT now(),
     CONSTRAINT ${EVENT_ID_CONSTRAINT} UNIQUE (event_id),
     CONSTRAINT ${STREAM_REVISION_CONSTRAINT} UNIQUE (stream_id, revision)
   )`,
  `CREATE INDEX IF NOT EXISTS events_transaction_position_idx
     ON eventstore.events (transaction_id, global_position)`,
  // One row: the id of this store instance, which checkpoints record (docs/event-store.md).
  `CREATE TABLE IF NOT EXISTS eventstore.store_identity (
     singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
     instance_id uuid NOT NULL DEFAULT gen_random_uuid(),
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `INSERT INTO eventstore.store_identity (singleton) VALUES (true) ON CONFLICT DO NOTHING`,
];

export async function migrateEventStoreSchema(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('eventstore.migrate'))`);
    for (const statement of MIGRATION_STATEMENTS) await trx.raw(statement);
  });
}

/** Columns every event read selects; bigint and xid8 come back as decimal text, cast explicitly. */
export const EVENT_COLUMNS = `
  global_position::text AS global_position,
  transaction_id::text AS transaction_id,
  event_id::text AS event_id,
  stream_id,
  revision::text AS revision,
  type,
  data,
  metadata,
  created_at`;

/** Decimal text of a 64-bit integer to bigint: never through Number, which loses precision past 2^53. */
export const bigintText = z
  .string()
  .regex(/^-?\d+$/, 'expected a decimal integer')
  .transform((text) => BigInt(text));

const eventRowSchema = z.object({
  global_position: bigintText,
  transaction_id: bigintText,
  event_id: z.string().min(1),
  stream_id: z.string().min(1),
  revision: bigintText,
  type: z.string().min(1),
  data: jsonObjectSchema,
  metadata: eventMetadataSchema,
  created_at: z.date(),
});

/** A row as the driver returns what EVENT_COLUMNS selects, of the types eventRowSchema checks. */
type EventRow = z.output<typeof eventRowSchema>;

const DECIMAL = /^-?\d+$/;
const KNOWN_METADATA_KEYS = ['correlationId', 'causationId', 'userId'] as const;

/**
 * The row, checked as eventRowSchema checks it, without zod's generic walk: every event read goes
 * through here (a replay reads the whole store). Anything it does not accept is parsed by the
 * schema, which throws the same error it always did.
 */
function checkedEventRow(row: unknown): EventRow {
  if (typeof row === 'object' && row !== null) {
    const { global_position, transaction_id, event_id, stream_id, revision, type, data, metadata, created_at } = row as Record<string, unknown>;
    if (
      typeof global_position === 'string' && DECIMAL.test(global_position) &&
      typeof transaction_id === 'string' && DECIMAL.test(transaction_id) &&
      typeof revision === 'string' && DECIMAL.test(revision) &&
      typeof event_id === 'string' && event_id.length > 0 &&
      typeof stream_id === 'string' && stream_id.length > 0 &&
      typeof type === 'string' && type.length > 0 &&
      isJsonObject(data) &&
      isPlainMetadata(metadata) &&
      created_at instanceof Date && !Number.isNaN(created_at.getTime())
    ) {
      return {
        global_position: BigInt(global_position),
        transaction_id: BigInt(transaction_id),
        event_id,
        stream_id,
        revision: BigInt(revision),
        type,
        data: data as EventRow['data'],
        metadata: metadata as EventRow['metadata'],
        created_at,
      };
    }
  }
  return eventRowSchema.parse(row);
}

/** What eventMetadataSchema accepts of parsed JSON: an object whose well-known keys, when present, are strings. */
function isPlainMetadata(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  for (const key of KNOWN_METADATA_KEYS) if (record[key] !== undefined && typeof record[key] !== 'string') return false;
  for (const key in record) if (record[key] === undefined) return false;
  return true;
}

export function toRecordedEvent(row: unknown): RecordedEvent {
  const parsed = checkedEventRow(row);
  return {
    id: parsed.event_id,
    streamId: parsed.stream_id,
    type: parsed.type,
    data: parsed.data,
    metadata: parsed.metadata,
    revision: parsed.revision,
    position: { commit: parsed.transaction_id, prepare: parsed.global_position },
    createdAt: parsed.created_at,
  };
}

/** Built once: zod analyses a schema the first time it parses with it, so a schema built per call costs that each time. */
const driverResult = z.object({ rows: z.array(z.unknown()) });

/** knex.raw on pg resolves to the driver's result; only `rows` is used, validated by the caller. */
export function rowsOf(result: unknown): unknown[] {
  return driverResult.parse(result).rows;
}

export function isUniqueViolation(error: unknown, constraint: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint: violated } = error as { code?: unknown; constraint?: unknown };
  return code === UNIQUE_VIOLATION && violated === constraint;
}
