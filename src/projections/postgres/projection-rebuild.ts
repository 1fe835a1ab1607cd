import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { streamCategory, type EventStore, type GlobalPosition, type RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine, type QuarantinedEvent } from '../projection-quarantine';
import { applyOnce, claimRevision, createProjectionRevisionsTable, PROJECTION_REVISIONS_TABLE, type PostgresProjection } from './postgres-projection';

/** After each page: events read from the store so far, and how many of them the projection applied. */
export interface ReplayProgress {
  eventsRead: number;
  eventsApplied: number;
}

export interface RebuildResult {
  projection: string;
  eventsApplied: number;
  lastPosition: GlobalPosition | undefined;
  /** Events that could not be applied: set aside (projection_quarantine), the rebuild went on. */
  quarantined: QuarantinedEvent[];
}

const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

/**
 * Rebuilds a projection from the event store's full history into a fresh schema, then swaps the
 * rebuilt tables in inside one transaction, so readers see the old model until the commit and the
 * new one after, never a half-built one. Live writers are blocked only during the final catch-up.
 */
export async function rebuildProjection(
  db: Knex,
  store: EventStore,
  projection: PostgresProjection,
  options: { logger: Logger; batchSize?: number; onProgress?: (progress: ReplayProgress) => void },
): Promise<RebuildResult> {
  const schema = `rebuild_${projection.name.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`;
  // Pages hold whole events, and a telemetry batch event can be several hundred KiB: 200 keeps a
  // page's memory bounded while small events still replay in few round trips.
  const batchSize = options.batchSize ?? 200;
  const inRebuildSchema = async <T>(trx: Knex.Transaction, work: () => Promise<T>): Promise<T> => {
    await trx.raw(`SET LOCAL search_path TO ${quote(schema)}`);
    return work();
  };
  await db.raw(`CREATE SCHEMA ${quote(schema)}`);
  try {
    await db.transaction((trx) =>
      inRebuildSchema(trx, async () => {
        await createProjectionRevisionsTable(trx);
        await projection.createTables(trx);
      }),
    );

    let after: GlobalPosition | undefined;
    let eventsApplied = 0;
    const quarantined: QuarantinedEvent[] = [];
    let eventsRead = 0;
    /**
     * Applies a page; returns how many events it applied. With `isolate`, each event runs in a
     * savepoint, so one that cannot be applied rolls back alone and is quarantined; without it a
     * page is one plain transaction (fast), and such an event aborts the page, which is then
     * applied again isolated.
     */
    const applyBatch = async (trx: Knex.Transaction, events: RecordedEvent[], isolate: boolean): Promise<number> => {
      let applied = 0;
      for (const event of events) {
        if (!projection.categories.includes(streamCategory(event.streamId))) continue;
        if (!isolate) {
          if (await applyOnce(projection, event, trx)) applied++;
          continue;
        }
        try {
          if (await trx.transaction((savepoint) => applyOnce(projection, event, savepoint))) applied++;
        } catch (error) {
          if (!isUnapplicableEventError(error)) throw error;
          await claimRevision(projection, event.streamId, event.revision, trx);
          const entry = quarantineEntry(projection.name, event, error);
          await recordQuarantine(trx, entry, options.logger);
          quarantined.push(entry);
        }
      }
      return applied;
    };
    // Bulk phase: live writers keep going against the live tables.
    for (;;) {
      const events = await store.readAll({ after, maxCount: batchSize });
      if (events.length === 0) break;
      try {
        eventsApplied += await db.transaction((trx) => inRebuildSchema(trx, () => applyBatch(trx, events, false)));
      } catch (error) {
        if (!isUnapplicableEventError(error)) throw error;
        eventsApplied += await db.transaction((trx) => inRebuildSchema(trx, () => applyBatch(trx, events, true)));
      }
      after = events[events.length - 1].position;
      eventsRead += events.length;
      options.onProgress?.({ eventsRead, eventsApplied });
    }
    options.logger.info({ projection: projection.name, eventsApplied }, 'rebuild caught up; swapping in');

    // Swap phase: block live writers of this projection, apply what arrived meanwhile, swap, commit.
    await db.transaction(async (trx) => {
      const liveTables = [...projection.tables, PROJECTION_REVISIONS_TABLE].map((t) => `public.${quote(t)}`);
      await trx.raw(`LOCK TABLE ${liveTables.join(', ')} IN EXCLUSIVE MODE`);
      await inRebuildSchema(trx, async () => {
        for (;;) {
          const events = await store.readAll({ after, maxCount: batchSize });
          if (events.length === 0) break;
          eventsApplied += await applyBatch(trx, events, true);
          after = events[events.length - 1].position;
          eventsRead += events.length;
          options.onProgress?.({ eventsRead, eventsApplied });
        }
      });
      await trx.raw('SET LOCAL search_path TO public');
      for (const table of projection.tables) {
        await trx.raw(`DROP TABLE public.${quote(table)}`);
        await trx.raw(`ALTER TABLE ${quote(schema)}.${quote(table)} SET SCHEMA public`);
      }
      await trx(PROJECTION_REVISIONS_TABLE).where({ projection: projection.name }).delete();
      await trx.raw(
        `INSERT INTO public.${PROJECTION_REVISIONS_TABLE} (projection, stream_id, revision)
         SELECT projection, stream_id, revision FROM ${quote(schema)}.${PROJECTION_REVISIONS_TABLE} WHERE projection = ?`,
        [projection.name],
      );
    });
    return { projection: projection.name, eventsApplied, lastPosition: after, quarantined };
  } finally {
    await db.raw(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`);
  }
}
