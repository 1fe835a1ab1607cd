import type { CompactRows } from '../../infrastructure/analytics/analytics';
import type { RecordedEvent } from '../../infrastructure/eventstore/event-store';

/** Rows for one table, produced from one event, in compact form (column names once, arrays of values). */
export interface TableRows extends CompactRows {
  /** Bare table name (one of the projection's tables). */
  table: string;
}

/**
 * An analytics read model in ClickHouse (docs/analytics.md). Like a PostgreSQL projection it says
 * which stream categories and event types it reads; instead of applying in a transaction it turns
 * each event into rows, which the runner inserts with the event id as deduplication token.
 * `rows` must be deterministic (same event, same rows in the same order) for that token to work,
 * and for replay to rebuild the same tables.
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
  rows(event: RecordedEvent): TableRows[];
}

export function clickHouseProjection(definition: ClickHouseProjection): ClickHouseProjection {
  return definition;
}
