import type { Knex } from 'knex';
import { z } from 'zod';
import type { Logger } from 'pino';
import { busHealthOf } from '../../infrastructure/bus/bus-health';
import type { Consumer, DeliveredMessage, MessageBus } from '../../infrastructure/bus/message-bus';
import { streamCategory, type EventStore, type RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { decodeEnvelope, topicForCategory } from '../../infrastructure/bus/event-envelope';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine } from '../projection-quarantine';
import { applyInOrder, claimRevision, createProjectionRevisionsTable, PROJECTION_REVISIONS_TABLE, type PostgresProjection } from './postgres-projection';
import { announceApplied, appliedPayloadText, PROJECTION_APPLIED_CHANNEL, projectionAppliedSignalOf } from './projection-applied-signal';

export const projectionGroupId = (projection: PostgresProjection): string => `projection.${projection.name}`;

export async function migrateProjections(db: Knex, projections: PostgresProjection[]): Promise<void> {
  await createProjectionRevisionsTable(db);
  for (const projection of projections) await projection.createTables(db);
}

/**
 * Live path: consumes the projection's topics a batch at a time (the ready messages of one
 * partition) and applies the batch in one transaction, with the streams' revision checkpoints and
 * the announcement of what it applied (projection-applied-signal.ts) inside it. A redelivered batch,
 * in full or from any message on, changes nothing: each stream's applied revision is read under
 * lock first and events at or below it are skipped.
 *
 * A batch that fails is not retried as a whole: the bus hands its messages over one at a time
 * (MessageBus, batchHandler), and a single event that can never be applied is quarantined and
 * passed, exactly as before batching.
 */
export async function startProjection(
  db: Knex,
  bus: MessageBus,
  projection: PostgresProjection,
  options: { topicPrefix: string; logger: Logger },
): Promise<Consumer> {
  const topics = projection.categories.map((c) => topicForCategory(options.topicPrefix, c));
  await bus.ensureTopics(topics);
  return bus.subscribe({
    groupId: projectionGroupId(projection),
    topics,
    fromBeginning: true,
    // Events of other types only move the revision (from the relay's headers): their payload is not fetched.
    valueTypes: projection.handles,
    batchHandler: async (messages) => {
      const relevant = messages.filter((message) => projection.categories.includes(streamCategory(message.key)));
      if (relevant.length === 0) return;
      // Usually the API applied its own write already (applyOwnWrite): then one plain read, no transaction.
      if (await allApplied(db, projection, relevant)) return;
      if (relevant.length > 1) {
        await db.transaction((trx) => applyBatch(projection, relevant, trx));
        return;
      }
      const [message] = relevant;
      try {
        await db.transaction((trx) => applyBatch(projection, relevant, trx));
      } catch (error) {
        if (!isUnapplicableEventError(error)) throw error; // transient: the bus retries
        // The event can never be applied: set it aside, mark its revision seen, go on.
        const event = decodeEnvelope(message.value);
        await db.transaction(async (trx) => {
          if (await claimRevision(projection, event.streamId, event.revision, trx)) {
            await recordQuarantine(trx, quarantineEntry(projection.name, event, error), options.logger);
            await announceApplied(trx, projection.name, new Map([[event.streamId, event.revision]]));
          }
        });
      }
    },
  });
}

/**
 * Whether every message is at or below its stream's applied revision, read without a lock: a
 * committed revision only grows, so what it covers the locked path would skip too. False when any
 * stream has no revision yet or is behind: the batch is then applied under lock.
 */
async function allApplied(db: Knex, projection: PostgresProjection, messages: DeliveredMessage[]): Promise<boolean> {
  const latest = new Map<string, bigint>();
  for (const message of messages) {
    const revision = revisionOf(message);
    if (revision === undefined) return false; // undecodable: the locked path quarantines it
    if ((latest.get(message.key) ?? -1n) < revision) latest.set(message.key, revision);
  }
  const rows = await db.raw<{ rows: unknown[] }>(
    `SELECT stream_id, revision::text AS revision FROM ${PROJECTION_REVISIONS_TABLE} WHERE projection = ? AND stream_id = ANY(?::text[])`,
    [projection.name, [...latest.keys()]],
  );
  const applied = new Map(rows.rows.map((row) => revisionRow.parse(row)).map((row) => [row.stream_id, row.revision]));
  return [...latest].every(([streamId, revision]) => (applied.get(streamId) ?? -1n) >= revision);
}

/** A message's stream revision: from its headers when they carry it, else from the envelope; undefined when neither says. */
function revisionOf(message: DeliveredMessage): bigint | undefined {
  const revision = message.headers['event-revision'];
  if (revision !== undefined && /^\d+$/.test(revision)) return BigInt(revision);
  try {
    return decodeEnvelope(message.value).revision;
  } catch {
    return undefined;
  }
}

/** The revision a message carries in its headers, when its type is one the projection does not handle. */
function passThroughRevision(projection: PostgresProjection, message: DeliveredMessage): bigint | undefined {
  const type = message.headers['event-type'];
  const revision = message.headers['event-revision'];
  if (type === undefined || revision === undefined || !/^\d+$/.test(revision) || projection.handles.includes(type)) return undefined;
  return BigInt(revision);
}

/** One event to apply: its stream and revision, and the event itself unless the projection does not handle its type. */
interface Applicable {
  readonly streamId: string;
  readonly revision: bigint;
  readonly event: RecordedEvent | undefined;
}

/**
 * Applies the messages (in partition order) in the caller's transaction: the streams' rows in
 * projection_revisions are created if missing and locked (sorted, so two appliers cannot
 * deadlock), events at or below a stream's revision are skipped, the rest applied, and the new
 * revisions written and announced. Events of types the projection does not handle (e.g. multi-MiB
 * telemetry batches) only move the revision: their payload is never parsed.
 */
export async function applyBatch(projection: PostgresProjection, messages: DeliveredMessage[], trx: Knex.Transaction): Promise<number> {
  const applied = await lockAppliedRevisions(projection, messages.map((message) => message.key), trx);
  const items = messages.map((message): Applicable => {
    const passing = passThroughRevision(projection, message);
    if (passing !== undefined) return { streamId: message.key, revision: passing, event: undefined };
    const event = decodeEnvelope(message.value);
    return { streamId: event.streamId, revision: event.revision, event };
  });
  return applyLocked(projection, items, applied, trx);
}

/**
 * Applies recorded events (in each stream's order) in the caller's transaction with the live path's
 * locks and revisions: events at or below a stream's applied revision are skipped. Returns how many
 * were applied.
 */
export async function applyEvents(projection: PostgresProjection, events: readonly RecordedEvent[], trx: Knex.Transaction): Promise<number> {
  const applied = await lockAppliedRevisions(projection, events.map((event) => event.streamId), trx);
  return applyLocked(projection, events.map((event) => ({ streamId: event.streamId, revision: event.revision, event })), applied, trx);
}

/**
 * Creates the streams' rows in projection_revisions if missing and locks them (in sorted order, so
 * two appliers cannot deadlock), in one statement that also lets this derived write commit without
 * waiting for its fsync: a commit lost in a crash is redelivered by the bus (its offset is committed
 * later in the WAL) and applied again. Returns each stream's applied revision (-1: none yet).
 */
async function lockAppliedRevisions(projection: PostgresProjection, streamIds: readonly string[], trx: Knex.Transaction): Promise<Map<string, bigint>> {
  const streams = [...new Set(streamIds)].sort();
  const locked = await trx.raw<{ rows: unknown[] }>(
    `INSERT INTO ${PROJECTION_REVISIONS_TABLE} AS r (projection, stream_id, revision)
     SELECT ?, s.stream_id, -1 FROM unnest(?::text[]) AS s(stream_id), (SELECT set_config('synchronous_commit', 'off', true)) AS derived
     ORDER BY s.stream_id
     ON CONFLICT (projection, stream_id) DO UPDATE SET revision = r.revision
     RETURNING r.stream_id, r.revision::text AS revision`,
    [projection.name, streams],
  );
  return new Map(locked.rows.map((row) => revisionRow.parse(row)).map((row) => [row.stream_id, row.revision]));
}

/** Applies what is past each stream's locked revision, then writes and announces the new revisions in one statement. */
async function applyLocked(projection: PostgresProjection, items: readonly Applicable[], applied: Map<string, bigint>, trx: Knex.Transaction): Promise<number> {
  const advanced = new Map<string, bigint>();
  const fresh: RecordedEvent[] = [];
  for (const item of items) {
    if (item.revision <= (applied.get(item.streamId) ?? -1n)) continue;
    if (item.event !== undefined) fresh.push(item.event);
    applied.set(item.streamId, item.revision);
    advanced.set(item.streamId, item.revision);
  }
  // Runs of one type go to the projection's batch handlers (batchOn), as in a rebuild.
  await applyInOrder(projection, fresh, trx);
  const count = fresh.length;
  if (advanced.size > 0) {
    await trx.raw(
      `WITH advanced AS (
         UPDATE ${PROJECTION_REVISIONS_TABLE} AS r SET revision = a.revision::bigint
         FROM jsonb_to_recordset(?::jsonb) AS a(stream_id text, revision text)
         WHERE r.projection = ? AND r.stream_id = a.stream_id RETURNING 1)
       SELECT pg_notify(?, ?)`,
      [
        JSON.stringify([...advanced].map(([stream_id, revision]) => ({ stream_id, revision: revision.toString() }))),
        projection.name,
        PROJECTION_APPLIED_CHANNEL,
        appliedPayloadText(projection.name, advanced),
      ],
    );
  }
  return count;
}

/**
 * Read-your-writes without the bus, for a stream-local projection (PostgresProjection.streamLocal):
 * applies the stream's events up to (at least) `revision` now, in one transaction with the same
 * locks, revisions and announcement as the bus path, so the bus's delivery of the same events later
 * is a no-op, and a delivery that got there first makes this one. Reads the stream from `revision`
 * (a command usually appends one event); when the projection is further behind, reads from where it
 * is and tries once more. True once the projection has applied `revision`. `ownEvents`: the
 * request's own appended events of the stream from a revision on (RecordingEventStore), used instead
 * of the read when they reach `revision` (the answer of the append, not a second round trip).
 *
 * Not for projections whose rows depend on other streams: applying one stream ahead of the global
 * order would change what they hold (replay == live).
 */
export async function applyOwnWrite(
  db: Knex,
  store: EventStore,
  projection: PostgresProjection,
  streamId: string,
  revision: bigint,
  ownEvents?: (fromRevision: bigint) => readonly RecordedEvent[] | undefined,
): Promise<boolean> {
  if (projection.streamLocal !== true) throw new Error(`projection ${projection.name} is not stream-local: its rows may depend on other streams' order`);
  if (!projection.categories.includes(streamCategory(streamId))) throw new Error(`projection ${projection.name} does not read stream ${streamId}`);
  let from = revision;
  for (let attempt = 0; attempt < 2; attempt++) {
    // The command's own events as its append answered them (no read back), when they reach `revision`.
    const own = ownEvents?.(from);
    const events = own !== undefined && own[own.length - 1]!.revision >= revision ? own : await store.readStream(streamId, { fromRevision: from });
    // Usually the projection stands just before these events: then one round trip applies them.
    if (attempt === 0 && (await applyAtOnce(db, projection, streamId, events, revision))) return true;
    const outcome = await db.transaction(async (trx): Promise<{ kind: 'caught-up' } | { kind: 'not-in-store' } | { kind: 'read-from'; revision: bigint }> => {
      const applied = await lockAppliedRevisions(projection, [streamId], trx);
      const current = applied.get(streamId) ?? -1n;
      if (current >= revision) return { kind: 'caught-up' };
      // The projection is behind what was read: read from where it is (outside this transaction,
      // which holds a pooled connection) and try again.
      if (current + 1n < from) return { kind: 'read-from', revision: current + 1n };
      await applyLocked(projection, events.map((event) => ({ streamId, revision: event.revision, event })), applied, trx);
      return (applied.get(streamId) ?? -1n) >= revision ? { kind: 'caught-up' } : { kind: 'not-in-store' };
    });
    if (outcome.kind === 'caught-up') return true;
    if (outcome.kind === 'not-in-store') return false; // the store did not show the revision (yet)
    from = outcome.revision;
  }
  return false;
}

/**
 * The own write in one round trip, when the projection says its statements (`liveStatements`) and
 * stands just before `events` (the usual case: nothing applied this stream's new events yet). One
 * simple query, which PostgreSQL runs as one transaction: the revision row moves from the revision
 * before the first event to the last (created for a new stream), then the events' statements, then
 * the announcement; the move is the lock the locked path takes. When the row was not where
 * expected (the bus got there first, the projection is further behind), the query fails at its
 * second statement and rolls back, and false sends the caller to the locked path. So do any other
 * error and a projection without statements for these events: the locked path decides (quarantine,
 * retries) as before. Committed without waiting for its fsync, as the locked path's derived writes.
 */
async function applyAtOnce(db: Knex, projection: PostgresProjection, streamId: string, events: readonly RecordedEvent[], revision: bigint): Promise<boolean> {
  const first = events[0]?.revision;
  const last = events[events.length - 1]?.revision;
  if (projection.liveStatements === undefined || first === undefined || last === undefined || last < revision) return false;
  if (events.some((event, i) => event.streamId !== streamId || event.revision !== first + BigInt(i))) return false;
  let statements: string[] | undefined;
  try {
    statements = projection.liveStatements(events);
  } catch {
    return false; // undecodable: the locked path quarantines it
  }
  if (statements === undefined) return false;
  const name = textLiteral(projection.name);
  const stream = textLiteral(streamId);
  // The row moves only from the revision just before `first` (a new stream's row is created at `last`).
  const move =
    first === 0n
      ? `INSERT INTO ${PROJECTION_REVISIONS_TABLE} AS r (projection, stream_id, revision) VALUES (${name}, ${stream}, ${last})
         ON CONFLICT (projection, stream_id) DO UPDATE SET revision = excluded.revision WHERE r.revision = -1 RETURNING 1`
      : `UPDATE ${PROJECTION_REVISIONS_TABLE} SET revision = ${last} WHERE projection = ${name} AND stream_id = ${stream} AND revision = ${first - 1n} RETURNING 1`;
  const query = [
    `SELECT set_config('synchronous_commit', 'off', true)`,
    // Fails (and so rolls everything back) unless the row moved; the text names why in the server's log.
    // The failing branch depends on count(*), so the planner cannot fold it into an error up front.
    `WITH moved AS (${move}) SELECT CASE count(*) WHEN 1 THEN 1 ELSE ('own write: projection not at revision ${first - 1n}, rows moved: ' || count(*))::int END FROM moved`,
    ...statements,
    `SELECT pg_notify(${textLiteral(PROJECTION_APPLIED_CHANNEL)}, ${textLiteral(appliedPayloadText(projection.name, new Map([[streamId, last]])))})`,
  ].join(';\n');
  try {
    await db.raw(query);
    return true;
  } catch {
    return false;
  }
}

/**
 * A text literal for a query sent without parameters through knex, whose raw() takes every `?` for a
 * placeholder: an escape string (right whatever standard_conforming_strings is), `?` as chr(63).
 */
function textLiteral(text: string): string {
  const escaped = text.replace(/\\/g, '\\\\').replace(/'/g, "''");
  return `(E'${escaped.split('?').join("' || chr(63) || E'")}')`;
}

const revisionRow = z.object({ stream_id: z.string(), revision: z.string().transform((text) => BigInt(text)) });

export const DEFAULT_PROJECTION_WAIT_MS = 5_000;

/**
 * Read-your-writes for the API: waits until the projection applied the stream up to `revision`,
 * woken by the projection's announcement (NOTIFY projection_applied, from any process), not by
 * polling. Resolves false on timeout, or at once when `bus` is known to be down (the projection
 * cannot move then): the caller answers from the command's own outcome, never from a missing row.
 */
export async function waitForProjection(
  db: Knex,
  projectionName: string,
  streamId: string,
  revision: bigint,
  options: { timeoutMs?: number; bus?: MessageBus } = {},
): Promise<boolean> {
  const health = options.bus ? busHealthOf(options.bus) : undefined;
  return projectionAppliedSignalOf(db).waitFor(projectionName, streamId, revision, options.timeoutMs ?? DEFAULT_PROJECTION_WAIT_MS, health);
}

/**
 * The API's read-your-writes: a stream-local projection gets the command's events applied at once
 * (applyOwnWrite); any other, or when that fails (a transient error, an event the projection cannot
 * apply: the bus path quarantines it and announces), waits for the projection's announcement.
 */
export async function catchUpOwnWrite(
  db: Knex,
  store: EventStore,
  projection: PostgresProjection,
  streamId: string,
  revision: bigint,
  options: { bus?: MessageBus; logger: Logger; timeoutMs?: number; ownEvents?: (fromRevision: bigint) => readonly RecordedEvent[] | undefined },
): Promise<boolean> {
  if (projection.streamLocal === true && projection.categories.includes(streamCategory(streamId))) {
    try {
      if (await applyOwnWrite(db, store, projection, streamId, revision, options.ownEvents)) return true;
    } catch (error) {
      options.logger.warn({ err: error, projection: projection.name, streamId, revision: revision.toString() }, 'applying the own write failed; waiting for the bus');
    }
  }
  return waitForProjection(db, projection.name, streamId, revision, { ...(options.bus ? { bus: options.bus } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
}
