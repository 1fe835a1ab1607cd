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
  const [result] = await rebuildProjections(db, store, [projection], options);
  return result!;
}

/** One projection being rebuilt: its schema, and what it applied and set aside. */
interface Rebuild {
  projection: PostgresProjection;
  schema: string;
  eventsApplied: number;
  quarantined: QuarantinedEvent[];
}

/**
 * Rebuilds several projections from ONE read of the history (`arena replay all`): each page of
 * events is read once and given to every projection that reads one of its categories, each in its
 * own schema and transaction (concurrently: they share no table). A projection with nothing in a
 * page costs nothing for it. Then each is swapped in as {@link rebuildProjection} describes, one
 * after the other, each catching up from where the shared read stopped.
 */
export async function rebuildProjections(
  db: Knex,
  store: EventStore,
  projections: readonly PostgresProjection[],
  options: { logger: Logger; batchSize?: number; onProgress?: (progress: ReplayProgress) => void },
): Promise<RebuildResult[]> {
  // Pages hold whole events; telemetry batches are stored packed (tens of KiB each), so 500 keeps
  // a page's memory bounded while small events still replay in few round trips.
  const batchSize = options.batchSize ?? 500;
  const rebuilds: Rebuild[] = projections.map((projection) => ({
    projection,
    schema: `rebuild_${projection.name.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`,
    eventsApplied: 0,
    quarantined: [],
  }));
  const inRebuildSchema = async <T>(rebuild: Rebuild, trx: Knex.Transaction, work: () => Promise<T>): Promise<T> => {
    await trx.raw(`SET LOCAL search_path TO ${quote(rebuild.schema)}`);
    return work();
  };
  const totalApplied = () => rebuilds.reduce((sum, rebuild) => sum + rebuild.eventsApplied, 0);
  /**
   * Applies a page; returns how many events it applied. With `isolate`, each event runs in a
   * savepoint, so one that cannot be applied rolls back alone and is quarantined; without it a
   * page is one plain transaction (fast), and such an event aborts the page, which is then
   * applied again isolated.
   */
  const applyBatch = async (rebuild: Rebuild, trx: Knex.Transaction, events: RecordedEvent[], isolate: boolean): Promise<number> => {
    const { projection } = rebuild;
    let applied = 0;
    for (const event of events) {
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
        rebuild.quarantined.push(entry);
      }
    }
    return applied;
  };
  const applyPage = async (rebuild: Rebuild, page: RecordedEvent[]): Promise<void> => {
    const events = page.filter((event) => rebuild.projection.categories.includes(streamCategory(event.streamId)));
    if (events.length === 0) return;
    try {
      rebuild.eventsApplied += await db.transaction((trx) => inRebuildSchema(rebuild, trx, () => applyBatch(rebuild, trx, events, false)));
    } catch (error) {
      if (!isUnapplicableEventError(error)) throw error;
      rebuild.eventsApplied += await db.transaction((trx) => inRebuildSchema(rebuild, trx, () => applyBatch(rebuild, trx, events, true)));
    }
  };

  try {
    for (const rebuild of rebuilds) {
      await db.raw(`CREATE SCHEMA ${quote(rebuild.schema)}`);
      await db.transaction((trx) =>
        inRebuildSchema(rebuild, trx, async () => {
          await createProjectionRevisionsTable(trx);
          await rebuild.projection.createTables(trx);
        }),
      );
    }

    let after: GlobalPosition | undefined;
    let eventsRead = 0;
    // Bulk phase: live writers keep going against the live tables. The next page is read while
    // the projections apply this one.
    let next = store.readAll({ after, maxCount: batchSize });
    next.catch(() => undefined);
    for (;;) {
      const events = await next;
      if (events.length === 0) break;
      after = events[events.length - 1]!.position;
      next = store.readAll({ after, maxCount: batchSize });
      next.catch(() => undefined); // awaited next round; a failure of this round must not leave it unhandled
      await Promise.all(rebuilds.map((rebuild) => applyPage(rebuild, events)));
      eventsRead += events.length;
      options.onProgress?.({ eventsRead, eventsApplied: totalApplied() });
    }
    options.logger.info({ projections: projections.map((p) => p.name), eventsRead, eventsApplied: totalApplied() }, 'rebuild caught up; swapping in');

    // Swap phase, per projection: block its live writers, apply what arrived meanwhile, swap, commit.
    const results: RebuildResult[] = [];
    for (const rebuild of rebuilds) {
      const { projection } = rebuild;
      let position = after;
      await db.transaction(async (trx) => {
        const liveTables = [...projection.tables, PROJECTION_REVISIONS_TABLE].map((t) => `public.${quote(t)}`);
        await trx.raw(`LOCK TABLE ${liveTables.join(', ')} IN EXCLUSIVE MODE`);
        await inRebuildSchema(rebuild, trx, async () => {
          for (;;) {
            const events = await store.readAll({ after: position, maxCount: batchSize });
            if (events.length === 0) break;
            const relevant = events.filter((event) => projection.categories.includes(streamCategory(event.streamId)));
            rebuild.eventsApplied += await applyBatch(rebuild, trx, relevant, true);
            position = events[events.length - 1]!.position;
            eventsRead += events.length;
            options.onProgress?.({ eventsRead, eventsApplied: totalApplied() });
          }
        });
        await trx.raw('SET LOCAL search_path TO public');
        for (const table of projection.tables) {
          await trx.raw(`DROP TABLE public.${quote(table)}`);
          await trx.raw(`ALTER TABLE ${quote(rebuild.schema)}.${quote(table)} SET SCHEMA public`);
        }
        await trx(PROJECTION_REVISIONS_TABLE).where({ projection: projection.name }).delete();
        await trx.raw(
          `INSERT INTO public.${PROJECTION_REVISIONS_TABLE} (projection, stream_id, revision)
           SELECT projection, stream_id, revision FROM ${quote(rebuild.schema)}.${PROJECTION_REVISIONS_TABLE} WHERE projection = ?`,
          [projection.name],
        );
      });
      results.push({ projection: projection.name, eventsApplied: rebuild.eventsApplied, lastPosition: position, quarantined: rebuild.quarantined });
    }
    return results;
  } finally {
    for (const rebuild of rebuilds) await db.raw(`DROP SCHEMA IF EXISTS ${quote(rebuild.schema)} CASCADE`);
  }
}
