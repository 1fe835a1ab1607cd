import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Analytics } from '../../infrastructure/analytics/analytics';
import { streamCategory, type EventStore, type GlobalPosition, type RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine, type QuarantinedEvent } from '../projection-quarantine';
import type { ClickHouseProjection } from './clickhouse-projection';
import type { ReplayProgress } from '../postgres/projection-rebuild';
import { applyToClickHouse } from './clickhouse-projection-runner';

export interface ClickHouseReplayResult {
  projection: string;
  eventsApplied: number;
  rowsWritten: number;
  /** Events that could not be applied: set aside (projection_quarantine when `quarantineDb` is given), the replay went on. */
  quarantined: QuarantinedEvent[];
}

const REBUILD_SUFFIX = '__rebuild';

/**
 * Rebuilds a ClickHouse projection from the event store's full history (`arena replay
 * telemetry-analytics`). The tables are built under other names while the live ones keep serving
 * and receiving, then swapped in with `EXCHANGE TABLES` (atomic on the Atomic database engine, the
 * default). Events appended meanwhile are then applied to the swapped-in tables: the live consumer
 * may insert some of them too, and the event-id deduplication token makes that a no-op.
 *
 * Reads the store in small pages: a telemetry batch event can hold 10,000 points.
 */
export async function replayClickHouseProjection(
  analytics: Analytics,
  store: EventStore,
  projection: ClickHouseProjection,
  options: { logger: Logger; pageSize?: number; quarantineDb?: Knex; onProgress?: (progress: ReplayProgress) => void },
): Promise<ClickHouseReplayResult> {
  const tables = Object.keys(projection.tables);
  const rebuildName = (table: string) => `${table}${REBUILD_SUFFIX}`;
  const pageSize = options.pageSize ?? 50;
  let eventsApplied = 0;
  let rowsWritten = 0;
  const quarantined: QuarantinedEvent[] = [];
  let eventsRead = 0;
  let after: GlobalPosition | undefined;
  const applyPages = async (tableName: (table: string) => string): Promise<void> => {
    for (;;) {
      const events: RecordedEvent[] = await store.readAll({ after, maxCount: pageSize });
      if (events.length === 0) return;
      for (const event of events) {
        if (!projection.categories.includes(streamCategory(event.streamId)) || !projection.handles.includes(event.type)) continue;
        try {
          rowsWritten += await applyToClickHouse(analytics, projection, event, tableName);
          eventsApplied += 1;
        } catch (error) {
          if (!isUnapplicableEventError(error)) throw error;
          const entry = quarantineEntry(projection.name, event, error);
          if (options.quarantineDb) await recordQuarantine(options.quarantineDb, entry, options.logger);
          else options.logger.warn({ quarantined_event: entry }, 'event quarantined');
          if (!quarantined.some((seen) => seen.eventId === entry.eventId)) quarantined.push(entry);
        }
      }
      after = events[events.length - 1]!.position;
      eventsRead += events.length;
      options.onProgress?.({ eventsRead, eventsApplied });
    }
  };

  for (const table of tables) await analytics.command(`DROP TABLE IF EXISTS {db}.${rebuildName(table)}`);
  await analytics.ensureSchema(tables.flatMap((table) => projection.tables[table]!(rebuildName(table))));
  // The live tables may not exist yet (replay before the first start): EXCHANGE needs both.
  await analytics.ensureSchema(tables.flatMap((table) => projection.tables[table]!(table)));
  await applyPages(rebuildName);
  options.logger.info({ projection: projection.name, eventsApplied }, 'analytics rebuild caught up; swapping in');
  for (const table of tables) await analytics.command(`EXCHANGE TABLES {db}.${table} AND {db}.${rebuildName(table)}`);
  await applyPages((table) => table);
  for (const table of tables) await analytics.command(`DROP TABLE IF EXISTS {db}.${rebuildName(table)}`);
  return { projection: projection.name, eventsApplied, rowsWritten, quarantined };
}
