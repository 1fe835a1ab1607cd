import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Analytics } from '../../infrastructure/analytics/analytics';
import { type EventStore, type GlobalPosition, type RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine, type QuarantinedEvent } from '../projection-quarantine';
import type { ClickHouseProjection, TableOutput } from './clickhouse-projection';
import { ClickHouseBlockBuffer, insertBlocks } from './clickhouse-block-buffer';
import type { ReplayProgress } from '../postgres/projection-rebuild';
import { applyEventsToClickHouse, applyToClickHouse, clickHouseProjectionHandles, withTableWritesHeld } from './clickhouse-projection-runner';

export interface ClickHouseReplayResult {
  projection: string;
  eventsApplied: number;
  rowsWritten: number;
  /** Events that could not be applied: set aside (projection_quarantine when `quarantineDb` is given), the replay went on. */
  quarantined: QuarantinedEvent[];
}

const REBUILD_SUFFIX = '__rebuild';

/** Rows per insert while rebuilding: inside the 10k–100k band ClickHouse handles best. */
export const REPLAY_BLOCK_ROWS = 50_000;

/**
 * Rebuilds a ClickHouse projection from the event store's full history (`arena replay
 * telemetry-analytics`). The tables are built under other names while the live ones keep serving
 * and receiving, then swapped in with `EXCHANGE TABLES` (atomic on the Atomic database engine, the
 * default). Events appended meanwhile are then applied to the swapped-in tables: the live consumer
 * may insert some of them too, and the event-id deduplication token makes that a no-op.
 *
 * The rebuild gathers the rows of many events into blocks of `blockRows` per table (fresh tables
 * need no deduplication tokens), with one block inserting while the next pages are read and turned
 * into rows. A block the engine refuses is inserted again event by event, and the event it cannot
 * take is quarantined, as on the live path.
 */
export async function replayClickHouseProjection(
  analytics: Analytics,
  store: EventStore,
  projection: ClickHouseProjection,
  options: {
    logger: Logger;
    pageSize?: number;
    blockRows?: number;
    quarantineDb?: Knex;
    onProgress?: (progress: ReplayProgress) => void;
  },
): Promise<ClickHouseReplayResult> {
  const tables = Object.keys(projection.tables);
  const rebuildName = (table: string) => `${table}${REBUILD_SUFFIX}`;
  const pageSize = options.pageSize ?? 200;
  let eventsApplied = 0;
  let rowsWritten = 0;
  const quarantined: QuarantinedEvent[] = [];
  let eventsRead = 0;
  let after: GlobalPosition | undefined;

  const quarantine = async (event: RecordedEvent, error: unknown): Promise<void> => {
    const entry = quarantineEntry(projection.name, event, error);
    if (options.quarantineDb) await recordQuarantine(options.quarantineDb, entry, options.logger);
    else options.logger.warn({ quarantined_event: entry }, 'event quarantined');
    if (!quarantined.some((seen) => seen.eventId === entry.eventId)) quarantined.push(entry);
  };
  /** The event's rows, or null when it cannot be applied (then it is quarantined). */
  const rowsOf = async (event: RecordedEvent): Promise<TableOutput[] | null> => {
    try {
      return projection.output(event);
    } catch (error) {
      if (!isUnapplicableEventError(error)) throw error;
      await quarantine(event, error);
      return null;
    }
  };
  async function* pages(): AsyncIterable<RecordedEvent[]> {
    for (;;) {
      const events: RecordedEvent[] = await store.readAll({ after, maxCount: pageSize });
      if (events.length === 0) return;
      after = events[events.length - 1]!.position;
      yield events;
    }
  }

  const buffer = new ClickHouseBlockBuffer(options.blockRows ?? REPLAY_BLOCK_ROWS);
  let inFlight: Promise<void> = Promise.resolve();
  const insertTaken = async (taken: ReturnType<ClickHouseBlockBuffer['take']>): Promise<void> => {
    try {
      await insertBlocks(analytics, taken.tables, rebuildName);
      rowsWritten += taken.rows;
    } catch (error) {
      if (!isUnapplicableEventError(error)) throw error;
      // One event's rows spoil the block: insert event by event (rows already stored are left out).
      for (const { event } of taken.events) {
        try {
          rowsWritten += await applyToClickHouse(analytics, projection, event, rebuildName);
        } catch (eventError) {
          if (!isUnapplicableEventError(eventError)) throw eventError;
          await quarantine(event, eventError);
          eventsApplied -= 1;
        }
      }
    }
  };
  const flush = async (): Promise<void> => {
    const taken = buffer.take();
    await inFlight;
    inFlight = insertTaken(taken);
  };

  for (const table of tables) await analytics.command(`DROP TABLE IF EXISTS {db}.${rebuildName(table)}`);
  await analytics.ensureSchema(tables.flatMap((table) => projection.tables[table]!(rebuildName(table))));
  // The live tables may not exist yet (replay before the first start): EXCHANGE needs both.
  await analytics.ensureSchema(tables.flatMap((table) => projection.tables[table]!(table)));
  try {
    for await (const events of pages()) {
      for (const event of events) {
        if (!clickHouseProjectionHandles(projection, event)) continue;
        const rows = await rowsOf(event);
        if (rows === null) continue;
        buffer.add(event, rows);
        eventsApplied += 1;
        if (buffer.full) await flush();
      }
      eventsRead += events.length;
      options.onProgress?.({ eventsRead, eventsApplied });
    }
    await flush();
  } finally {
    await inFlight;
  }
  options.logger.info({ projection: projection.name, eventsApplied, rowsWritten }, 'analytics rebuild caught up; swapping in');
  for (const table of tables) {
    await withTableWritesHeld(analytics, table, () => analytics.command(`EXCHANGE TABLES {db}.${table} AND {db}.${rebuildName(table)}`));
  }
  // Catch-up on the live tables, a page at a time: the live consumer may insert some of the same
  // events, and each insert leaves out the rows already stored.
  for await (const events of pages()) {
    const applied = await applyEventsToClickHouse(analytics, projection, events, { onUnapplicable: quarantine });
    rowsWritten += applied.rowsWritten;
    eventsApplied += applied.eventsApplied;
    eventsRead += events.length;
    options.onProgress?.({ eventsRead, eventsApplied });
  }
  for (const table of tables) await analytics.command(`DROP TABLE IF EXISTS {db}.${rebuildName(table)}`);
  return { projection: projection.name, eventsApplied, rowsWritten, quarantined };
}
