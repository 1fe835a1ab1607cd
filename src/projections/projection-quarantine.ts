import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { EventDataError } from '../domain/shared/event-data-error';
import { formatPosition, type RecordedEvent } from '../infrastructure/eventstore/event-store';

/**
 * Quarantine: what a projection does with an event it cannot apply. Retrying such an event cannot
 * help (the same data fails the same way), and stopping on it would hold every later event back,
 * in the live consumer and in every replay. So the event is set aside and the projection goes on:
 *
 *   - it is logged (warn, structured: projection, stream, revision, position, type, error),
 *   - counted (`occurrences`, and `quarantinedEventCount()` for this process),
 *   - recorded in the PostgreSQL table `projection_quarantine`, where operators look
 *     (docs/event-store.md, "Quarantined events"), one row per projection and event;
 *   - a replay reports the events it quarantined at its end and exits non-zero.
 *
 * Only errors that say "this event's data cannot be applied" quarantine: schema violations
 * (EventDataError, ZodError) and data errors of the target database (PostgreSQL SQLSTATE class 22,
 * not-null and check violations; ClickHouse parse and type errors). Anything else (a database that
 * is down, a timeout) is transient and goes on being retried as before.
 */
export const PROJECTION_QUARANTINE_TABLE = 'projection_quarantine';

export async function createProjectionQuarantineTable(db: Knex): Promise<void> {
  await db.raw(`CREATE TABLE IF NOT EXISTS public.${PROJECTION_QUARANTINE_TABLE} (
    projection text NOT NULL,
    event_id text NOT NULL,
    stream_id text NOT NULL,
    revision bigint NOT NULL,
    position text NOT NULL,
    event_type text NOT NULL,
    error text NOT NULL,
    occurrences integer NOT NULL DEFAULT 1,
    first_quarantined_at timestamptz NOT NULL DEFAULT now(),
    last_quarantined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, event_id)
  )`);
}

export interface QuarantinedEvent {
  projection: string;
  eventId: string;
  streamId: string;
  revision: string;
  /** Global position in the event store, `commit:prepare` (formatPosition). */
  position: string;
  eventType: string;
  error: string;
}

/** PostgreSQL data errors: class 22 (data exception), 23502 not-null, 23514 check violation. */
const isPostgresDataError = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22[0-9A-Z]{3}|23502|23514)$/.test(code);
};

/**
 * ClickHouse error codes meaning "these rows cannot be stored": cannot parse (6, 26, 27, 38, 41,
 * 72, 73), type mismatch (53), argument out of bound (69), cannot convert (70), incorrect data
 * (117), too large string (131), value out of range of the type (321).
 */
const CLICKHOUSE_DATA_ERRORS = new Set([6, 26, 27, 38, 41, 53, 69, 70, 72, 73, 117, 131, 321]);
const isClickHouseDataError = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  const numeric = typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : typeof code === 'number' ? code : undefined;
  if (numeric !== undefined) return CLICKHOUSE_DATA_ERRORS.has(numeric);
  const fromMessage = error instanceof Error ? /\bCode: (\d+)\b/.exec(error.message) : null;
  return fromMessage !== null && CLICKHOUSE_DATA_ERRORS.has(Number(fromMessage[1]));
};

/** Whether `error` says that the event itself cannot be applied (retrying would fail the same way). */
export function isUnapplicableEventError(error: unknown): boolean {
  return error instanceof EventDataError || error instanceof ZodError || isPostgresDataError(error) || isClickHouseDataError(error);
}

export function quarantineEntry(projection: string, event: RecordedEvent, error: unknown): QuarantinedEvent {
  const message = error instanceof ZodError ? error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') : error instanceof Error ? error.message : String(error);
  return {
    projection,
    eventId: event.id,
    streamId: event.streamId,
    revision: event.revision.toString(),
    position: formatPosition(event.position),
    eventType: event.type,
    error: message.slice(0, 2000),
  };
}

let quarantinedInThisProcess = 0;

/** How many events this process has quarantined since it started (all projections). */
export function quarantinedEventCount(): number {
  return quarantinedInThisProcess;
}

/** Logs, counts and records one quarantined event (idempotent per projection and event). */
export async function recordQuarantine(db: Knex | Knex.Transaction, entry: QuarantinedEvent, logger: Logger): Promise<void> {
  quarantinedInThisProcess += 1;
  logger.warn({ quarantined_event: entry }, `projection ${entry.projection} quarantined ${entry.eventType} at ${entry.streamId}@${entry.revision} (position ${entry.position}); it goes on with the next event`);
  await db.raw(
    `INSERT INTO public.${PROJECTION_QUARANTINE_TABLE} (projection, event_id, stream_id, revision, position, event_type, error)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (projection, event_id) DO UPDATE
       SET occurrences = ${PROJECTION_QUARANTINE_TABLE}.occurrences + 1, error = EXCLUDED.error, last_quarantined_at = now()`,
    [entry.projection, entry.eventId, entry.streamId, entry.revision, entry.position, entry.eventType, entry.error],
  );
}
