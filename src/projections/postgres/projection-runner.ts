import type { Knex } from 'knex';
import { z } from 'zod';
import type { Logger } from 'pino';
import { busHealthOf } from '../../infrastructure/bus/bus-health';
import type { Consumer, DeliveredMessage, MessageBus } from '../../infrastructure/bus/message-bus';
import { streamCategory } from '../../infrastructure/eventstore/event-store';
import { decodeEnvelope, topicForCategory } from '../../infrastructure/bus/event-envelope';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine } from '../projection-quarantine';
import { claimRevision, createProjectionRevisionsTable, PROJECTION_REVISIONS_TABLE, type PostgresProjection } from './postgres-projection';
import { announceApplied, projectionAppliedSignalOf } from './projection-applied-signal';

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
    batchHandler: async (messages) => {
      const relevant = messages.filter((message) => projection.categories.includes(streamCategory(message.key)));
      if (relevant.length === 0) return;
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

/** The revision a message carries in its headers, when its type is one the projection does not handle. */
function passThroughRevision(projection: PostgresProjection, message: DeliveredMessage): bigint | undefined {
  const type = message.headers['event-type'];
  const revision = message.headers['event-revision'];
  if (type === undefined || revision === undefined || !/^\d+$/.test(revision) || projection.handles.includes(type)) return undefined;
  return BigInt(revision);
}

/**
 * Applies the messages (in partition order) in the caller's transaction: the streams' rows in
 * projection_revisions are created if missing and locked (sorted, so two appliers cannot
 * deadlock), events at or below a stream's revision are skipped, the rest applied, and the new
 * revisions written in one statement and announced. Events of types the projection does not handle
 * (e.g. multi-MiB telemetry batches) only move the revision: their payload is never parsed.
 */
export async function applyBatch(projection: PostgresProjection, messages: DeliveredMessage[], trx: Knex.Transaction): Promise<number> {
  // Read models are derived: a commit lost in a crash is redelivered (the bus offset is committed
  // after this, later in the WAL) and applied again, so this commit need not wait for its fsync.
  await trx.raw('SET LOCAL synchronous_commit TO OFF');
  const streams = [...new Set(messages.map((message) => message.key))].sort();
  await trx.raw(
    `INSERT INTO ${PROJECTION_REVISIONS_TABLE} (projection, stream_id, revision)
     SELECT ?, stream_id, -1 FROM unnest(?::text[]) AS s(stream_id) ON CONFLICT (projection, stream_id) DO NOTHING`,
    [projection.name, streams],
  );
  const locked = await trx.raw<{ rows: unknown[] }>(
    `SELECT stream_id, revision::text AS revision FROM ${PROJECTION_REVISIONS_TABLE}
     WHERE projection = ? AND stream_id = ANY(?::text[]) ORDER BY stream_id FOR UPDATE`,
    [projection.name, streams],
  );
  const applied = new Map(locked.rows.map((row) => revisionRow.parse(row)).map((row) => [row.stream_id, row.revision]));
  const advanced = new Map<string, bigint>();
  let count = 0;
  for (const message of messages) {
    const current = applied.get(message.key) ?? -1n;
    const passing = passThroughRevision(projection, message);
    if (passing !== undefined) {
      if (passing <= current) continue;
      applied.set(message.key, passing);
      advanced.set(message.key, passing);
      continue;
    }
    const event = decodeEnvelope(message.value);
    if (event.revision <= current) continue;
    if (projection.handles.includes(event.type)) await projection.apply(event, trx);
    applied.set(event.streamId, event.revision);
    advanced.set(event.streamId, event.revision);
    count++;
  }
  if (advanced.size > 0) {
    await trx.raw(
      `UPDATE ${PROJECTION_REVISIONS_TABLE} AS r SET revision = a.revision::bigint
       FROM jsonb_to_recordset(?::jsonb) AS a(stream_id text, revision text)
       WHERE r.projection = ? AND r.stream_id = a.stream_id`,
      [JSON.stringify([...advanced].map(([stream_id, revision]) => ({ stream_id, revision: revision.toString() }))), projection.name],
    );
    await announceApplied(trx, projection.name, advanced);
  }
  return count;
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
