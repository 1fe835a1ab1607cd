import type { DomainEventOfType, DomainEventType } from '../../domain/domain-events';
import type { CompactRows } from '../../infrastructure/analytics/analytics';
import { decodeRecordedEvent } from '../../infrastructure/eventstore/event-decoding';
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

/** The rows of each event type a ClickHouse projection handles, from the event decoded and typed. */
export type RowHandlers = {
  [Type in DomainEventType]?: (event: RecordedEvent<DomainEventOfType<Type>>) => TableRows[];
};

/**
 * Declares a ClickHouse projection by its typed row handlers (`on: { LapCompleted: (event) => … }`):
 * `handles` is derived from the keys, and `rows` decodes each event (upcast, checked against the
 * domain's schema) before its handler sees it. Undecodable data throws EventDataError: quarantined.
 */
export function clickHouseProjection(definition: Omit<ClickHouseProjection, 'handles' | 'rows'> & { on: RowHandlers }): ClickHouseProjection {
  const { on, ...rest } = definition;
  const byType = on as Partial<Record<string, (event: RecordedEvent<DomainEventOfType<DomainEventType>>) => TableRows[]>>;
  return {
    ...rest,
    handles: Object.keys(on),
    rows(recorded) {
      const handler = byType[recorded.type];
      return handler === undefined ? [] : handler(decodeRecordedEvent(recorded) as RecordedEvent<DomainEventOfType<DomainEventType>>);
    },
  };
}
