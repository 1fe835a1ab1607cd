import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import { streamCategory, type EventStore, type GlobalPosition, type RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine, type QuarantinedEvent } from '../projection-quarantine';
import { NotFoldableError, jsonLiteral } from './row-fold';
import { applyInOrder, createProjectionRevisionsTable, PROJECTION_REVISIONS_TABLE, type FoldWindow, type PostgresProjection } from './postgres-projection';

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

/** Pages read but not yet applied by every projection, at most. */
const PAGES_IN_FLIGHT = 3;

/**
 * Handled events a projection folds before it writes their rows (`foldWindow`): a row that several
 * pages change (a session's laps, a job's progress) is then written once, by an INSERT, instead of
 * an UPDATE per page. A row fold keeps rows, not events; the leaderboard's laps are kept decoded.
 */
const FOLD_WINDOW_EVENTS = 20_000;

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

/** One projection being rebuilt: its schema, what it applied and set aside, and each stream's revision. */
interface Rebuild {
  projection: PostgresProjection;
  schema: string;
  eventsApplied: number;
  quarantined: QuarantinedEvent[];
  /**
   * The revision applied per stream, as committed in the rebuild schema's projection_revisions. Its
   * tables are fresh and nothing else writes them, so this process knows them without reading them.
   */
  revisions: Map<string, bigint>;
  /** Pages folded but not yet written (projections with `foldWindow`). */
  window: Window | undefined;
  /** Whether anything was committed into the rebuild's tables yet (before, they are empty). */
  written: boolean;
}

/** Consecutive pages folded together: what they fold to, and the range of the store they cover. */
interface Window {
  fold: FoldWindow;
  /** The position the window's first page was read after (undefined: the start of the store). */
  after: GlobalPosition | undefined;
  /** The last position of its last page. */
  upTo: GlobalPosition;
  applied: number;
  advanced: Map<string, bigint>;
}

const positionAfter = (a: GlobalPosition, b: GlobalPosition): boolean => a.commit > b.commit || (a.commit === b.commit && a.prepare > b.prepare);

/** What a page did in a transaction; merged into its rebuild only once that transaction committed. */
interface PageOutcome {
  applied: number;
  advanced: Map<string, bigint>;
  quarantined: QuarantinedEvent[];
}

/**
 * Rebuilds several projections from ONE read of the history (`arena replay all`): each page of
 * events is read once and given to every projection that reads one of its categories, each in its
 * own schema and transaction (concurrently: they share no table). A projection with nothing in a
 * page costs nothing for it. Then each is swapped in as {@link rebuildProjection} describes, one
 * after the other, each catching up from where the shared read stopped.
 *
 * A page is applied in bulk: the rebuild schema is fresh and has no other writer, so the streams'
 * revisions are kept here and written once, after the last page (nothing reads them before the
 * swap; a failed rebuild drops the schema), events of types the projection does not handle cost
 * no statement at all, a page is folded in memory (`foldPage`) or runs of one type go to the
 * projection's batch handlers (`applyAll`), and rows derived from others are written once at the
 * end (`finishRebuild`). The rows are the ones applying event after event gives.
 */
export async function rebuildProjections(
  db: Knex,
  store: EventStore,
  projections: readonly PostgresProjection[],
  options: { logger: Logger; batchSize?: number; foldWindowEvents?: number; onProgress?: (progress: ReplayProgress) => void },
): Promise<RebuildResult[]> {
  // Pages hold whole events; telemetry batches are stored packed (tens of KiB each), so 500 keeps
  // a page's memory bounded while small events still replay in few round trips.
  const batchSize = options.batchSize ?? 500;
  const foldWindowEvents = options.foldWindowEvents ?? FOLD_WINDOW_EVENTS;
  const rebuilds: Rebuild[] = projections.map((projection) => ({
    projection,
    schema: `rebuild_${projection.name.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`,
    eventsApplied: 0,
    quarantined: [],
    revisions: new Map(),
    window: undefined,
    written: false,
  }));
  const inRebuildSchema = async <T>(rebuild: Rebuild, trx: Knex.Transaction, work: () => Promise<T>): Promise<T> => {
    await trx.raw(`SET LOCAL search_path TO ${quote(rebuild.schema)}`);
    return work();
  };
  const totalApplied = () => rebuilds.reduce((sum, rebuild) => sum + rebuild.eventsApplied, 0);
  const committed = (rebuild: Rebuild, outcome: PageOutcome): void => {
    rebuild.written = true;
    rebuild.eventsApplied += outcome.applied;
    for (const [streamId, revision] of outcome.advanced) rebuild.revisions.set(streamId, revision);
    rebuild.quarantined.push(...outcome.quarantined);
  };
  /** The page's events that are new for their streams, and the revisions they move the streams to. */
  const freshOf = (rebuild: Rebuild, events: RecordedEvent[], pending?: ReadonlyMap<string, bigint>): { fresh: RecordedEvent[]; advanced: Map<string, bigint> } => {
    const advanced = new Map<string, bigint>();
    const fresh = events.filter((event) => {
      const current = advanced.get(event.streamId) ?? pending?.get(event.streamId) ?? rebuild.revisions.get(event.streamId) ?? -1n;
      if (event.revision <= current) return false;
      advanced.set(event.streamId, event.revision);
      return true;
    });
    return { fresh, advanced };
  };
  /**
   * Applies the page's events that are new for their streams, in the caller's transaction (their
   * revisions are the caller's to write: once at the end of the bulk phase, or in the swap's
   * catch-up). With `isolate`, each handled event runs alone in a savepoint,
   * so one that cannot be applied rolls back alone and is quarantined (its revision still moves);
   * without it the page goes in bulk (fast), and such an event aborts the page, which is then
   * applied again isolated.
   */
  const applyEvents = async (rebuild: Rebuild, trx: Knex.Transaction, events: RecordedEvent[], isolate: boolean): Promise<PageOutcome> => {
    const { projection } = rebuild;
    const { fresh, advanced } = freshOf(rebuild, events);
    const outcome: PageOutcome = { applied: 0, advanced, quarantined: [] };
    if (!isolate) {
      await applyInOrder(projection, fresh, trx);
    } else {
      for (const event of fresh) {
        if (!projection.handles.includes(event.type)) continue;
        try {
          await trx.transaction((savepoint) => projection.apply(event, savepoint));
        } catch (error) {
          if (!isUnapplicableEventError(error)) throw error;
          const entry = quarantineEntry(projection.name, event, error);
          await recordQuarantine(trx, entry, options.logger);
          outcome.quarantined.push(entry);
        }
      }
    }
    outcome.applied = fresh.length - outcome.quarantined.length;
    return outcome;
  };
  /**
   * The page folded in memory (the projection's `foldPage`): its transaction, settings and rows
   * sent as ONE query on a pool connection (no per-statement round trips or query building), none
   * when it writes no row; undefined when the projection cannot fold it. A statement that fails
   * rolls the transaction back and throws, as a failing page does (then it is applied isolated).
   */
  const foldEvents = async (rebuild: Rebuild, events: RecordedEvent[], settings: string): Promise<PageOutcome | undefined> => {
    const { projection } = rebuild;
    if (!projection.foldPage) return undefined;
    const { fresh, advanced } = freshOf(rebuild, events);
    const statements = projection.foldPage(fresh.filter((event) => projection.handles.includes(event.type)));
    if (statements === undefined) return undefined;
    if (statements.length > 0) await inOneQuery(db, ['BEGIN', settings, ...statements, 'COMMIT'].join(';\n'));
    return { applied: fresh.length, advanced, quarantined: [] };
  };
  /**
   * A page into the projection's fold window (pages read after `after`): folded now, written with
   * the window's other pages once the window holds foldWindowEvents handled events (or after the
   * last page). A window that cannot be folded or written (NotFoldableError, undecodable data, a
   * statement PostgreSQL refuses) is dropped, its pages read again from the store and applied page
   * by page as {@link applyPage} does (each folded alone, or event by event, isolated).
   */
  const foldIntoWindow = async (rebuild: Rebuild, page: RecordedEvent[], after: GlobalPosition | undefined): Promise<void> => {
    const { projection } = rebuild;
    const window: Window = rebuild.window ?? { fold: projection.foldWindow!({ tablesEmpty: !rebuild.written }), after, upTo: page[page.length - 1]!.position, applied: 0, advanced: new Map() };
    rebuild.window = window;
    window.upTo = page[page.length - 1]!.position;
    const events = page.filter((event) => projection.categories.includes(streamCategory(event.streamId)));
    const { fresh, advanced } = freshOf(rebuild, events, window.advanced);
    try {
      window.fold.add(fresh);
    } catch (error) {
      if (!(error instanceof NotFoldableError) && !isUnapplicableEventError(error)) throw error;
      return applyWindowAgain(rebuild);
    }
    for (const [streamId, revision] of advanced) window.advanced.set(streamId, revision);
    window.applied += fresh.length;
    if (window.fold.size >= foldWindowEvents) await writeWindow(rebuild);
  };
  /** Writes the window's rows in one query on a pool connection, then forgets the window. */
  const writeWindow = async (rebuild: Rebuild): Promise<void> => {
    const { window } = rebuild;
    if (window === undefined) return;
    try {
      const statements = window.fold.statements();
      if (statements.length > 0) await inOneQuery(db, ['BEGIN', pageSettings(rebuild), ...statements, 'COMMIT'].join(';\n'));
    } catch (error) {
      if (!(error instanceof NotFoldableError) && !isUnapplicableEventError(error)) throw error;
      return applyWindowAgain(rebuild);
    }
    rebuild.window = undefined;
    committed(rebuild, { applied: window.applied, advanced: window.advanced, quarantined: [] });
  };
  /** The window's pages read again from the store (the same events: only finished transactions are read) and applied page by page. */
  const applyWindowAgain = async (rebuild: Rebuild): Promise<void> => {
    const window = rebuild.window!;
    rebuild.window = undefined;
    let position = window.after;
    for (;;) {
      const events = (await store.readAll({ after: position, maxCount: batchSize })).filter((event) => !positionAfter(event.position, window.upTo));
      if (events.length === 0) return;
      await applyPage(rebuild, events);
      position = events[events.length - 1]!.position;
    }
  };
  const pageSettings = (rebuild: Rebuild): string => `SET LOCAL synchronous_commit TO OFF; SET LOCAL search_path TO ${quote(rebuild.schema)}`;
  const applyPage = async (rebuild: Rebuild, page: RecordedEvent[]): Promise<void> => {
    const events = page.filter((event) => rebuild.projection.categories.includes(streamCategory(event.streamId)));
    if (events.length === 0) return;
    // The rebuild schema is dropped if the rebuild fails, and its tables become live only in the
    // swap's own (synchronous) commit: a page's commit need not wait for its fsync.
    // Both settings in one round trip (a query without parameters may hold several statements).
    const settings = pageSettings(rebuild);
    const inPageTransaction = async (isolate: boolean): Promise<PageOutcome> =>
      (isolate ? undefined : await foldEvents(rebuild, events, settings)) ??
      db.transaction(async (trx) => {
        await trx.raw(settings);
        return applyEvents(rebuild, trx, events, isolate);
      });
    try {
      committed(rebuild, await inPageTransaction(false));
    } catch (error) {
      if (!isUnapplicableEventError(error)) throw error;
      committed(rebuild, await inPageTransaction(true));
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
    // the projections apply this one, and each projection goes through the pages at its own pace
    // (its pages one after the other, in order): one folding a page in this process while another's
    // statements run in PostgreSQL. At most PAGES_IN_FLIGHT pages are held at a time.
    const chains = new Map<Rebuild, Promise<void>>(rebuilds.map((rebuild) => [rebuild, Promise.resolve()]));
    const pagesInFlight: Promise<void>[] = [];
    let next = store.readAll({ after, maxCount: batchSize });
    next.catch(() => undefined);
    try {
      for (;;) {
        const events = await next;
        if (events.length === 0) break;
        const pageAfter = after;
        after = events[events.length - 1]!.position;
        next = store.readAll({ after, maxCount: batchSize });
        next.catch(() => undefined); // awaited next round; a failure of this round must not leave it unhandled
        const pageApplied = Promise.all(
          rebuilds.map((rebuild) => {
            const chain = chains.get(rebuild)!.then(() => (rebuild.projection.foldWindow ? foldIntoWindow(rebuild, events, pageAfter) : applyPage(rebuild, events)));
            chains.set(rebuild, chain);
            return chain;
          }),
        ).then(() => {
          // Every projection applies pages in order, so pages complete in order too.
          eventsRead += events.length;
          options.onProgress?.({ eventsRead, eventsApplied: totalApplied() });
        });
        pageApplied.catch(() => undefined); // awaited below
        pagesInFlight.push(pageApplied);
        if (pagesInFlight.length >= PAGES_IN_FLIGHT) await pagesInFlight.shift();
      }
      // Each projection, as soon as its pages are in: the streams' revisions (kept in memory until
      // now: nothing reads them before the swap) and the rows it writes once (finishRebuild).
      for (const rebuild of rebuilds) {
        const { projection } = rebuild;
        chains.set(
          rebuild,
          chains.get(rebuild)!.then(async () => {
            await writeWindow(rebuild);
            const settings = pageSettings(rebuild);
            if (rebuild.revisions.size > 0) await inOneQuery(db, ['BEGIN', settings, ...revisionsStatements(projection, rebuild.revisions), 'COMMIT'].join(';\n'));
            if (projection.finishRebuild) {
              await db.transaction(async (trx) => {
                await trx.raw(settings);
                await projection.finishRebuild!(trx);
              });
            }
          }),
        );
      }
      for (const page of pagesInFlight.splice(0)) await page;
      await Promise.all(chains.values());
    } catch (error) {
      // No page may still be writing when the rebuild schemas are dropped.
      await Promise.allSettled([...chains.values(), next]);
      throw error;
    }
    options.logger.info({ projections: projections.map((p) => p.name), eventsRead, eventsApplied: totalApplied() }, 'rebuild caught up; swapping in');

    // Swap phase, per projection: block its live writers, apply what arrived meanwhile, swap, commit.
    const results: RebuildResult[] = [];
    for (const rebuild of rebuilds) {
      const { projection } = rebuild;
      let position = after;
      await db.transaction(async (trx) => {
        // In the order live writers take them (applyBatch/applyEvents: projection_revisions, then the
        // read model's tables): the other order deadlocked with a writer between its two steps.
        const liveTables = [PROJECTION_REVISIONS_TABLE, ...projection.tables].map((t) => `public.${quote(t)}`);
        await trx.raw(`LOCK TABLE ${liveTables.join(', ')} IN EXCLUSIVE MODE`);
        await inRebuildSchema(rebuild, trx, async () => {
          for (;;) {
            const events = await store.readAll({ after: position, maxCount: batchSize });
            if (events.length === 0) break;
            const relevant = events.filter((event) => projection.categories.includes(streamCategory(event.streamId)));
            // Isolated: this transaction also holds the swap, so a bad event must not abort it.
            const outcome = await applyEvents(rebuild, trx, relevant, true);
            await writeRevisions(trx, projection, outcome.advanced);
            committed(rebuild, outcome);
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

/** Runs `work` on a connection of the knex pool, as the pg client it is, then gives it back. */
async function onPoolConnection<T>(db: Knex, work: (connection: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = db.client as Knex.Client;
  const connection: unknown = await client.acquireConnection();
  try {
    if (!(connection instanceof pg.Client)) throw new Error('the knex pool gave something other than a pg client');
    return await work(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}

/** A transaction sent as one query (BEGIN … COMMIT, literals inlined); rolled back and thrown if a statement fails. */
async function inOneQuery(db: Knex, transaction: string): Promise<void> {
  await onPoolConnection(db, async (connection) => {
    try {
      await connection.query(transaction);
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/** Streams' revisions per statement written at the end of a rebuild's bulk phase. */
const REVISIONS_PER_STATEMENT = 20_000;

/** The statements that write the streams' revisions (in the current search_path), literals inlined; none when there are none. */
function revisionsStatements(projection: PostgresProjection, revisions: ReadonlyMap<string, bigint>): string[] {
  const rows = [...revisions].map(([stream_id, revision]) => ({ stream_id, revision: revision.toString() }));
  const statements: string[] = [];
  for (let start = 0; start < rows.length; start += REVISIONS_PER_STATEMENT) {
    statements.push(
      `INSERT INTO ${PROJECTION_REVISIONS_TABLE} (projection, stream_id, revision)
       SELECT ${jsonLiteral(projection.name)}::json #>> '{}', r.stream_id, r.revision FROM json_to_recordset(${jsonLiteral(rows.slice(start, start + REVISIONS_PER_STATEMENT))}) AS r(stream_id text, revision bigint)
       ON CONFLICT (projection, stream_id) DO UPDATE SET revision = excluded.revision`,
    );
  }
  return statements;
}

/** Writes the streams' revisions a page moved (in the current search_path): one statement. */
async function writeRevisions(trx: Knex.Transaction, projection: PostgresProjection, advanced: ReadonlyMap<string, bigint>): Promise<void> {
  if (advanced.size === 0) return;
  await trx.raw(
    `INSERT INTO ${PROJECTION_REVISIONS_TABLE} (projection, stream_id, revision)
     SELECT ?, stream_id, revision::bigint FROM unnest(?::text[], ?::text[]) AS a(stream_id, revision)
     ON CONFLICT (projection, stream_id) DO UPDATE SET revision = excluded.revision`,
    [projection.name, [...advanced.keys()], [...advanced.values()].map(String)],
  );
}
