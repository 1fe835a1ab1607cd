import type { DomainEventOfType, DomainEventType } from '../../domain/domain-events';
import type { CompactRows } from '../../infrastructure/analytics/analytics';
import { blockRows, type ColumnBlock } from '../../infrastructure/analytics/column-block';
import { decodeRecordedEvent } from '../../infrastructure/eventstore/event-decoding';
import type { RecordedEvent } from '../../infrastructure/eventstore/event-store';

/** Rows for one table, produced from one event, in compact form (column names once, arrays of values). */
export interface TableRows extends CompactRows {
  /** Bare table name (one of the projection's tables). */
  table: string;
}

/** Rows for one table, produced from one event, in columnar form (typed arrays: the compact input for the engine). */
export interface TableBlock {
  table: string;
  block: ColumnBlock;
}

/** An event's rows for one table, in whichever form its handler builds them. */
export type TableOutput = TableRows | TableBlock;

export const isTableBlock = (output: TableOutput): output is TableBlock => 'block' in output;

/** How many rows an output holds. */
export const outputRowCount = (output: TableOutput): number => (isTableBlock(output) ? output.block.rowCount : output.rows.length);

/** The output as compact rows (a columnar block converted row by row). */
export function toTableRows(output: TableOutput): TableRows {
  if (!isTableBlock(output)) return output;
  return { table: output.table, columns: output.block.columns.map((column) => column.name), rows: blockRows(output.block) };
}

/**
 * What identifies a row of a table: the ReplacingMergeTree's key, a UUID `group` column (the
 * session) and a column ordered within it (`epochMs` for a DateTime64(3), `integer` otherwise).
 * Before inserting, the runner asks which of the rows' keys the table already holds and leaves
 * those rows out: a batch redelivered in full, in part, or cut differently writes nothing twice.
 */
export interface RowIdentity {
  group: string;
  order: string;
  orderKind: 'epochMs' | 'integer';
}

/**
 * An analytics read model in ClickHouse (docs/analytics.md). Like a PostgreSQL projection it says
 * which stream categories and event types it reads; instead of applying in a transaction it turns
 * each event into rows, which the runner inserts a bus batch at a time (one block per table),
 * leaving out rows whose identity the table already holds. `output` must be deterministic (same
 * event, same rows in the same order), for redelivery to be recognised and for replay to rebuild
 * the same tables.
 */
export interface ClickHouseProjection {
  name: string;
  categories: string[];
  handles: string[];
  /**
   * The CREATE TABLE IF NOT EXISTS statement of each table, given the table's name: replay builds
   * the same tables under other names and swaps them in. Tables keep insert-deduplication history
   * (`non_replicated_deduplication_window`) so a redelivered event writes nothing. Columns added
   * later follow as `ALTER TABLE … ADD COLUMN IF NOT EXISTS` statements (tables of older versions).
   */
  tables: Record<string, (tableName: string) => string | readonly string[]>;
  /** The identity of each table's rows (see {@link RowIdentity}). */
  identity: Record<string, RowIdentity>;
  /** The event's rows per table, in the form its handler builds them. */
  output(event: RecordedEvent): TableOutput[];
  /** The same rows, every table's as compact rows. */
  rows(event: RecordedEvent): TableRows[];
}

/** The rows of each event type a ClickHouse projection handles, from the event decoded and typed. */
export type RowHandlers = {
  [Type in DomainEventType]?: (event: RecordedEvent<DomainEventOfType<Type>>) => TableOutput[];
};

/**
 * Declares a ClickHouse projection by its typed row handlers (`on: { LapCompleted: (event) => … }`):
 * `handles` is derived from the keys, and `rows` decodes each event (upcast, checked against the
 * domain's schema) before its handler sees it. Undecodable data throws EventDataError: quarantined.
 */
export function clickHouseProjection(definition: Omit<ClickHouseProjection, 'handles' | 'rows' | 'output'> & { on: RowHandlers }): ClickHouseProjection {
  const { on, ...rest } = definition;
  for (const table of Object.keys(rest.tables)) {
    if (rest.identity[table] === undefined) throw new Error(`ClickHouse projection ${rest.name}: table ${table} declares no row identity`);
  }
  const byType = on as Partial<Record<string, (event: RecordedEvent<DomainEventOfType<DomainEventType>>) => TableOutput[]>>;
  const output = (recorded: RecordedEvent): TableOutput[] => {
    const handler = byType[recorded.type];
    return handler === undefined ? [] : handler(decodeRecordedEvent(recorded) as RecordedEvent<DomainEventOfType<DomainEventType>>);
  };
  return {
    ...rest,
    handles: Object.keys(on),
    output,
    rows: (recorded) => output(recorded).map(toTableRows),
  };
}
