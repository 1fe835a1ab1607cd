import type { Knex } from 'knex';
import type { RecordedEvent } from '../../infrastructure/eventstore/event-store';
import type { DomainEventOfType, DomainEventType } from '../../domain/domain-events';
import { decodeRecordedEvent } from '../../infrastructure/eventstore/event-decoding';
import { eventDispatcher, handledTypes, type EventHandlers } from '../../infrastructure/eventstore/event-handlers';
import { insertIgnoreRowsStatement, NotFoldableError, RowFold, type FoldTable, type Row, type RowWriter } from './row-fold';
import { RowStatements } from './row-statements';

/**
 * A read model in PostgreSQL. The projection says which stream categories it reads, which event
 * types it handles, how to create its tables, and how to apply one event inside a transaction.
 * Table names are unqualified: the runner applies to the live tables, a rebuild to a fresh schema
 * (through `search_path`), and swaps the rebuilt tables in. Apply must be deterministic: it may use
 * only the event (never the clock), so replay gives the same rows as the live path.
 */
export interface PostgresProjection {
  name: string;
  categories: string[];
  handles: string[];
  /** The tables this projection owns (unqualified); a rebuild replaces exactly these. */
  tables: string[];
  /**
   * True when every row the projection writes depends on the events of one stream only: keyed by
   * that stream's aggregate, never read or changed by another stream's events. Applying one stream
   * ahead of the others then gives the same rows as applying in global order (replay == live), so
   * the API may apply its own command's events at once (`applyOwnWrite`, read-your-writes without
   * the bus). Absent: false, and the API waits for the projection's announcement.
   */
  streamLocal?: boolean;
  /** Creates the tables if missing, in the current search_path. */
  createTables(db: Knex | Knex.Transaction): Promise<void>;
  apply(event: RecordedEvent, trx: Knex.Transaction): Promise<void>;
  /**
   * Applies several events in order (a rebuild's page): the same rows as `apply` on each, one after
   * the other. Consecutive events of a type with a batch handler (`batchOn`) go to it at once.
   */
  applyAll?(events: readonly RecordedEvent[], trx: Knex.Transaction): Promise<void>;
  /**
   * A rebuild's page (tables fresh, no other writer) folded in memory (`fold`): the statements
   * that write its rows, literals inlined, to be sent in one round trip; undefined when the
   * projection has no fold for every type it handles, or this page cannot be folded exactly
   * (then apply it with `applyAll`). Undecodable data throws, as `apply` does.
   */
  foldPage?(events: readonly RecordedEvent[]): string[] | undefined;
  /**
   * A rebuild's fold over many pages (present with `foldPage`): events are added page after page
   * and the rows written once for all of them, so a row that several pages change is said once.
   * `add` and `statements` throw NotFoldableError when the window cannot be said exactly, and
   * undecodable data as `apply` does: the caller then applies the window's pages one by one.
   * `tablesEmpty`: nothing was written into the tables yet (a rebuild's first window).
   */
  foldWindow?(options: { tablesEmpty: boolean }): FoldWindow;
  /**
   * Rows a rebuild writes once, after its last page, rather than after each: rows that are a
   * function of other rows of the projection (the leaderboard's entries of its laps). With it,
   * `foldPage` writes only those other rows; whatever else wrote the derived rows before (a page
   * applied event by event) is overwritten with the same values. Runs in the rebuild schema,
   * before the swap's catch-up, which applies events as the live path does.
   */
  finishRebuild?(trx: Knex.Transaction): Promise<void>;
  /**
   * The live path's statements for these events (what `applyAll` would send, literals inlined, no
   * `?`), for a caller that sends them in one round trip with its own locks: undefined when an event
   * it handles has no `fold` handler or a handler of `on` overrides it. Events of types it does not
   * handle give no statement. Undecodable data throws, as `apply` does.
   */
  liveStatements?(events: readonly RecordedEvent[]): string[] | undefined;
}

/** Events of many pages folded in memory (`PostgresProjection.foldWindow`). */
export interface FoldWindow {
  /** Folds the next events (handled or not, in store order; those not handled are skipped). */
  add(events: readonly RecordedEvent[]): void;
  /** The statements that write every row the added events give, literals inlined. */
  statements(): string[];
  /** Handled events added so far. */
  readonly size: number;
}

/**
 * A rebuild's form of a projection whose rows `fold` cannot say (a composite key, derived rows):
 * a page's handled events (decoded, in order) as statements, literals inlined (throw
 * NotFoldableError for a page it cannot say exactly), and the derived rows written once at the end.
 */
export interface RebuildForm {
  page(events: RecordedEvent<DomainEventOfType<DomainEventType>>[]): string[];
  finish(trx: Knex.Transaction): Promise<void>;
}

/**
 * The rebuild form of a projection that only inserts one row per event and ignores duplicates
 * (INSERT … ON CONFLICT DO NOTHING, as its `on` and `batchOn` handlers do): a page's rows in one
 * INSERT … SELECT from `json_populate_recordset` (values converted by the table's row type, as
 * the fold's are), the first of duplicates winning as one by one; no derived rows.
 */
export function insertOnlyRebuild<Type extends DomainEventType>(
  type: Type,
  table: string,
  conflictColumns: readonly string[],
  rowOf: (event: RecordedEvent<DomainEventOfType<Type>>) => Row,
): RebuildForm {
  return {
    page: (events) => {
      const rows = events.flatMap((event) => (event.type === type ? [rowOf(event as RecordedEvent<DomainEventOfType<Type>>)] : []));
      return rows.length === 0 ? [] : [insertIgnoreRowsStatement(table, conflictColumns, rows)];
    },
    finish: async () => undefined,
  };
}

/**
 * Optional batch forms of a projection's handlers, by event type: each takes a run of consecutive
 * events of its type (decoded, in order) and must leave exactly the rows its `on` handler would
 * leave applied to them one by one (e.g. one multi-row INSERT … ON CONFLICT DO NOTHING for a
 * handler that inserts and ignores duplicates: the first wins in both).
 */
export type BatchEventHandlers<Context> = {
  [Type in DomainEventType]?: (events: RecordedEvent<DomainEventOfType<Type>>[], context: Context) => Promise<void>;
};

/**
 * A projection's handlers as row changes, by event type: what each event does to its rows, said on
 * a {@link RowWriter} (insertIgnore, upsert, update). Live, each change is one statement
 * (RowStatements); a rebuild folds a page in memory and writes it in a few multi-row statements
 * (RowFold). Both must leave the same rows (test/integration/projections/fold-pages.test.ts).
 */
export type FoldEventHandlers = {
  [Type in DomainEventType]?: (event: RecordedEvent<DomainEventOfType<Type>>, rows: RowWriter) => void;
};

/** Decoded once per stored event object: a rebuild hands the same page to every projection. */
const decodedEvents = new WeakMap<RecordedEvent, RecordedEvent<DomainEventOfType<DomainEventType>>>();
function decodedOnce(event: RecordedEvent): RecordedEvent<DomainEventOfType<DomainEventType>> {
  let decoded = decodedEvents.get(event);
  if (decoded === undefined) {
    decoded = decodeRecordedEvent(event) as RecordedEvent<DomainEventOfType<DomainEventType>>;
    decodedEvents.set(event, decoded);
  }
  return decoded;
}

/** The live handlers of a fold: each event's row changes as statements, in its transaction. */
function liveFormOf(fold: { tables: FoldTable[]; on: FoldEventHandlers } | undefined): Record<string, (event: RecordedEvent<DomainEventOfType<DomainEventType>>, trx: Knex.Transaction) => Promise<void>> {
  if (fold === undefined) return {};
  const foldOn = fold.on as Partial<Record<string, (event: RecordedEvent<DomainEventOfType<DomainEventType>>, rows: RowWriter) => void>>;
  const live: Record<string, (event: RecordedEvent<DomainEventOfType<DomainEventType>>, trx: Knex.Transaction) => Promise<void>> = {};
  for (const [type, handler] of Object.entries(foldOn)) {
    if (handler === undefined) continue;
    live[type] = async (event, trx) => {
      const rows = new RowStatements(fold.tables);
      handler(event, rows);
      await rows.write(trx);
    };
  }
  return live;
}

/**
 * A projection from its typed handlers (`on: { MatchCompleted: async (event, trx) => … }`): `handles`
 * is derived from them, and `apply` decodes each event with the domain's schemas (upcasting old
 * versions) before its handler sees it (src/infrastructure/eventstore/event-handlers.ts).
 */
export function postgresProjection(
  definition: Omit<PostgresProjection, 'handles' | 'apply' | 'applyAll' | 'foldPage' | 'liveStatements'> & {
    /** Handlers that are not row changes a fold can say (reads, other statements); they win over `fold.on` live. */
    on?: EventHandlers<Knex.Transaction>;
    batchOn?: BatchEventHandlers<Knex.Transaction>;
    /**
     * The handlers as row changes and the tables they write: folded per page by a rebuild, one
     * statement per change live (RowStatements), so both paths come from one definition.
     */
    fold?: { tables: FoldTable[]; on: FoldEventHandlers };
    /** Without `fold`: the rebuild's page form and derived rows ({@link RebuildForm}). */
    rebuild?: RebuildForm;
  },
): PostgresProjection {
  const { on: written = {}, batchOn = {}, fold, rebuild, ...rest } = definition;
  const on = { ...liveFormOf(fold), ...written } as EventHandlers<Knex.Transaction>;
  const apply = eventDispatcher(on);
  const byType = batchOn as Partial<Record<string, (events: RecordedEvent<DomainEventOfType<DomainEventType>>[], trx: Knex.Transaction) => Promise<void>>>;
  const handles: string[] = handledTypes(on);
  const applyAll = async (events: readonly RecordedEvent[], trx: Knex.Transaction): Promise<void> => {
    // Events the projection does not handle change none of its rows: they neither apply nor end a run.
    const handled = events.filter((event) => handles.includes(event.type));
    for (let start = 0; start < handled.length; ) {
      const type = handled[start]!.type;
      let end = start + 1;
      while (end < handled.length && handled[end]!.type === type) end++;
      const batch = byType[type];
      if (batch && end - start > 1) await batch(handled.slice(start, end).map(decodedOnce), trx);
      else for (let i = start; i < end; i++) await apply(handled[i]!, trx);
      start = end;
    }
  };
  const foldOn = (fold?.on ?? {}) as Partial<Record<string, (event: RecordedEvent<DomainEventOfType<DomainEventType>>, rows: RowWriter) => void>>;
  const folds = fold !== undefined && handles.every((type) => foldOn[type] !== undefined);
  const foldPage = (events: readonly RecordedEvent[]): string[] | undefined => {
    try {
      if (rebuild !== undefined) return rebuild.page(events.filter((event) => handles.includes(event.type)).map(decodedOnce));
      if (!folds) return undefined;
      const rows = new RowFold(fold.tables);
      for (const event of events) foldOn[event.type]?.(decodedOnce(event), rows);
      return rows.statements();
    } catch (error) {
      if (error instanceof NotFoldableError) return undefined;
      throw error;
    }
  };
  const foldWindow = ({ tablesEmpty }: { tablesEmpty: boolean }): FoldWindow => {
    if (rebuild !== undefined) {
      // The page form's statements, page after page: the window keeps their text, not the events.
      const statements: string[] = [];
      let size = 0;
      return {
        add: (events) => {
          const handled = events.filter((event) => handles.includes(event.type)).map(decodedOnce);
          if (handled.length === 0) return;
          statements.push(...rebuild.page(handled));
          size += handled.length;
        },
        statements: () => statements,
        get size() {
          return size;
        },
      };
    }
    // A row fold takes events one by one: the window keeps rows, not events.
    const rows = new RowFold(fold?.tables ?? [], { tablesEmpty });
    let size = 0;
    return {
      add: (events) => {
        for (const event of events) {
          const handler = foldOn[event.type];
          if (handler === undefined) continue;
          handler(decodedOnce(event), rows);
          size++;
        }
      },
      statements: () => rows.statements(),
      get size() {
        return size;
      },
    };
  };
  const writtenTypes = written as Partial<Record<string, unknown>>;
  const liveStatements = (events: readonly RecordedEvent[]): string[] | undefined => {
    if (fold === undefined) return undefined;
    const rows = new RowStatements(fold.tables);
    for (const event of events) {
      if (!handles.includes(event.type)) continue;
      const handler = foldOn[event.type];
      if (handler === undefined || writtenTypes[event.type] !== undefined) return undefined;
      handler(decodedOnce(event), rows);
    }
    return rows.take();
  };
  return {
    ...rest,
    handles,
    apply,
    applyAll,
    ...(folds || rebuild ? { foldPage, foldWindow } : {}),
    ...(rebuild ? { finishRebuild: rebuild.finish } : {}),
    ...(fold ? { liveStatements } : {}),
  };
}

/**
 * Applies events in order in the caller's transaction: through the projection's `applyAll` (runs of
 * one type to its batch handlers) when it has one, else `apply` on each event it handles.
 */
export async function applyInOrder(projection: PostgresProjection, events: readonly RecordedEvent[], trx: Knex.Transaction): Promise<void> {
  if (projection.applyAll) return projection.applyAll(events, trx);
  for (const event of events) if (projection.handles.includes(event.type)) await projection.apply(event, trx);
}

export const PROJECTION_REVISIONS_TABLE = 'projection_revisions';

/** Per projection and stream, the revision of the last applied event: makes redelivery a no-op. */
export async function createProjectionRevisionsTable(db: Knex | Knex.Transaction): Promise<void> {
  await db.raw(`CREATE TABLE IF NOT EXISTS ${PROJECTION_REVISIONS_TABLE} (
    projection text NOT NULL,
    stream_id text NOT NULL,
    revision bigint NOT NULL,
    PRIMARY KEY (projection, stream_id)
  )`);
}

/**
 * Records that the projection has seen the stream up to `revision` (locking the stream's row for the
 * transaction). False when it already had: the caller must not apply the event again. An event type
 * the projection does not handle only passes through here, so its payload need not be parsed.
 */
export async function claimRevision(projection: PostgresProjection, streamId: string, revision: bigint, trx: Knex.Transaction): Promise<boolean> {
  const row = await trx(PROJECTION_REVISIONS_TABLE)
    .where({ projection: projection.name, stream_id: streamId })
    .forUpdate()
    .first<{ revision: string } | undefined>();
  if (row && BigInt(row.revision) >= revision) return false;
  await trx(PROJECTION_REVISIONS_TABLE)
    .insert({ projection: projection.name, stream_id: streamId, revision: revision.toString() })
    .onConflict(['projection', 'stream_id'])
    .merge();
  return true;
}
