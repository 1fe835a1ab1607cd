import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { busHealthOf } from '../../infrastructure/bus/bus-health';
import type { Consumer, MessageBus } from '../../infrastructure/bus/message-bus';
import { streamCategory } from '../../infrastructure/eventstore/event-store';
import { decodeEnvelope, topicForCategory } from '../../infrastructure/bus/event-envelope';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine } from '../projection-quarantine';
import { applyOnce, claimRevision, createProjectionRevisionsTable, PROJECTION_REVISIONS_TABLE, type PostgresProjection } from './postgres-projection';

export const projectionGroupId = (projection: PostgresProjection): string => `projection.${projection.name}`;

export async function migrateProjections(db: Knex, projections: PostgresProjection[]): Promise<void> {
  await createProjectionRevisionsTable(db);
  for (const projection of projections) await projection.createTables(db);
}

/** Live path: consumes the projection's topics and applies each event in its own transaction. */
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
    handler: async (message) => {
      if (!projection.categories.includes(streamCategory(message.key))) return;
      const type = message.headers['event-type'];
      const revision = message.headers['event-revision'];
      if (type !== undefined && revision !== undefined && /^\d+$/.test(revision) && !projection.handles.includes(type)) {
        // Not an event this projection handles (e.g. a multi-MiB telemetry batch): advance the
        // stream's revision without parsing the payload.
        await db.transaction((trx) => claimRevision(projection, message.key, BigInt(revision), trx));
        return;
      }
      const event = decodeEnvelope(message.value);
      try {
        await db.transaction((trx) => applyOnce(projection, event, trx));
      } catch (error) {
        if (!isUnapplicableEventError(error)) throw error; // transient: the bus retries
        // The event can never be applied: set it aside, mark its revision seen, go on.
        await db.transaction(async (trx) => {
          if (await claimRevision(projection, event.streamId, event.revision, trx)) {
            await recordQuarantine(trx, quarantineEntry(projection.name, event, error), options.logger);
          }
        });
      }
    },
  });
}

export const DEFAULT_PROJECTION_WAIT_MS = 5_000;

/**
 * Read-your-writes for the API: waits until the projection applied the stream up to `revision`.
 * Resolves false on timeout, or at once when `bus` is known to be down (the projection cannot
 * move then): the caller answers from the command's own outcome, never from a missing row.
 */
export async function waitForProjection(
  db: Knex,
  projectionName: string,
  streamId: string,
  revision: bigint,
  options: { timeoutMs?: number; bus?: MessageBus } = {},
): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_PROJECTION_WAIT_MS);
  const health = options.bus ? busHealthOf(options.bus) : undefined;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const row = await db(PROJECTION_REVISIONS_TABLE)
      .where({ projection: projectionName, stream_id: streamId })
      .first<{ revision: string } | undefined>();
    if (row && BigInt(row.revision) >= revision) return true;
    if (Date.now() >= deadline || health?.knownDown()) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
