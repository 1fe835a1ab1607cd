import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Analytics } from '../../infrastructure/analytics/analytics';
import type { Consumer, MessageBus } from '../../infrastructure/bus/message-bus';
import type { Services } from '../../infrastructure/services';
import { streamCategory, type RecordedEvent } from '../../infrastructure/eventstore/event-store';
import type { RunningRole } from '../../infrastructure/running-role';
import { decodeEnvelope, topicForCategory } from '../../infrastructure/bus/event-envelope';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine } from '../projection-quarantine';
import { concatBlocks } from '../../infrastructure/analytics/column-block';
import { isTableBlock, outputRowCount, type ClickHouseProjection, type TableOutput } from './clickhouse-projection';
import { withoutStoredRows } from './clickhouse-row-identity';
import { KeyedSerialRunner } from '../../infrastructure/process/keyed-serial-runner';

/** One check-and-insert at a time per ClickHouse table in this process (insertProduced). */
const tableWriters = new KeyedSerialRunner();

/**
 * Runs `work` while no insert of this process checks or writes `table` (a replay's EXCHANGE TABLES:
 * an insert that checked the old table and wrote into the swapped-in one would store its rows twice).
 */
export function withTableWritesHeld<T>(analytics: Analytics, table: string, work: () => Promise<T>): Promise<T> {
  return tableWriters.run(`${analytics.database}.${table}`, work);
}

export const clickHouseProjectionGroupId = (projection: ClickHouseProjection): string => `analytics.${projection.name}`;

/** Creates the projection's tables if missing (idempotent, run at every start). */
export async function migrateClickHouseProjection(analytics: Analytics, projection: ClickHouseProjection): Promise<void> {
  await analytics.ensureSchema(Object.entries(projection.tables).flatMap(([table, create]) => create(table)));
}

/** Whether the projection reads this event at all (category and type). */
export function clickHouseProjectionHandles(projection: ClickHouseProjection, event: RecordedEvent): boolean {
  return projection.categories.includes(streamCategory(event.streamId)) && projection.handles.includes(event.type);
}

/**
 * Inserts the event's rows (see {@link applyEventsToClickHouse}). `tableName` maps a projection
 * table to the table actually written (replay writes to its rebuild tables). Returns the rows written.
 */
export async function applyToClickHouse(
  analytics: Analytics,
  projection: ClickHouseProjection,
  event: RecordedEvent,
  tableName: (table: string) => string = (table) => table,
): Promise<number> {
  return (await applyEventsToClickHouse(analytics, projection, [event], { tableName })).rowsWritten;
}

/** What the events of a batch produced: their rows per table, in event order. */
interface ProducedRows {
  event: RecordedEvent;
  outputs: TableOutput[];
}

/**
 * Inserts the rows of a batch of events (a bus batch, or one event), one block per table: a
 * ClickHouse insert has a high fixed cost (a part per insert, merged later), so one 20 000-row
 * insert is far cheaper than ten 2 000-row ones. Rows whose identity the table already holds are
 * left out first (clickhouse-row-identity.ts), which makes the batch idempotent however it is
 * redelivered: in full, in part, or cut into other batches. The insert's deduplication token
 * names the batch's events (the event id for one event).
 *
 * An event whose rows cannot be made is handed to `onUnapplicable` (quarantine) and the rest go on;
 * a block the engine refuses as data is inserted again event by event, to find the event to hand
 * over. Without `onUnapplicable` such errors are thrown.
 */
export async function applyEventsToClickHouse(
  analytics: Analytics,
  projection: ClickHouseProjection,
  events: readonly RecordedEvent[],
  options: { tableName?: (table: string) => string; onUnapplicable?: (event: RecordedEvent, error: unknown) => Promise<void> } = {},
): Promise<{ rowsWritten: number; eventsApplied: number }> {
  const tableName = options.tableName ?? ((table: string) => table);
  const unapplicable = async (event: RecordedEvent, error: unknown): Promise<void> => {
    if (options.onUnapplicable === undefined || !isUnapplicableEventError(error)) throw error;
    await options.onUnapplicable(event, error);
  };
  const produced: ProducedRows[] = [];
  for (const event of events) {
    if (!clickHouseProjectionHandles(projection, event)) continue;
    try {
      produced.push({ event, outputs: projection.output(event) });
    } catch (error) {
      await unapplicable(event, error);
    }
  }
  if (produced.length === 0) return { rowsWritten: 0, eventsApplied: 0 };
  try {
    return { rowsWritten: await insertProduced(analytics, projection, produced, tableName), eventsApplied: produced.length };
  } catch (error) {
    if (produced.length === 1 || options.onUnapplicable === undefined || !isUnapplicableEventError(error)) {
      await unapplicable(produced[0]!.event, error);
      return { rowsWritten: 0, eventsApplied: 0 };
    }
  }
  // One event's rows spoil the block: event by event (rows already stored are left out).
  let rowsWritten = 0;
  let eventsApplied = 0;
  for (const one of produced) {
    try {
      rowsWritten += await insertProduced(analytics, projection, [one], tableName);
      eventsApplied += 1;
    } catch (error) {
      await unapplicable(one.event, error);
    }
  }
  return { rowsWritten, eventsApplied };
}

/** One insert per table of everything `produced` holds for it, without the rows already stored. Returns the rows written. */
async function insertProduced(analytics: Analytics, projection: ClickHouseProjection, produced: readonly ProducedRows[], tableName: (table: string) => string): Promise<number> {
  const byTable = new Map<string, TableOutput[]>();
  for (const { outputs } of produced) {
    for (const output of outputs) {
      if (outputRowCount(output) === 0) continue;
      const list = byTable.get(output.table) ?? [];
      list.push(output);
      byTable.set(output.table, list);
    }
  }
  const ids = produced.map(({ event }) => event.id);
  const batchToken = ids.length === 1 ? ids[0]! : `batch:${createHash('sha256').update(ids.join(',')).digest('hex')}`;
  let written = 0;
  for (const [table, outputs] of byTable) {
    const identity = projection.identity[table];
    if (identity === undefined) throw new Error(`ClickHouse projection ${projection.name}: no row identity for table ${table}`);
    const target = tableName(table);
    // The check for stored rows and the insert are one step per table: a replay's catch-up and the
    // live consumer cut the same events into different batches (different tokens), and both checks
    // could otherwise pass before either insert lands.
    written += await withTableWritesHeld(analytics, target, async () => {
      const { output, leftOut } = await withoutStoredRows(analytics, target, identity, gather(table, outputs));
      if (outputRowCount(output) === 0) return 0;
      // A token names exactly these rows: when some were left out, the content itself is the token.
      const insertOptions = leftOut === 0 ? { deduplicationToken: batchToken } : {};
      if (isTableBlock(output)) await analytics.insertColumns(target, output.block, insertOptions);
      else await analytics.insertCompact(target, { columns: output.columns, rows: output.rows }, insertOptions);
      return outputRowCount(output);
    });
  }
  return written;
}

/** The outputs of one table as one (blocks concatenated, or rows one after another). */
function gather(table: string, outputs: readonly TableOutput[]): TableOutput {
  if (outputs.length === 1) return outputs[0]!;
  if (outputs.every(isTableBlock)) return { table, block: concatBlocks(outputs.map((output) => output.block)) };
  if (outputs.some(isTableBlock)) throw new Error(`ClickHouse table ${table}: rows come as blocks from one event and as rows from another`);
  const first = outputs[0] as Exclude<TableOutput, { block: unknown }>;
  const rows: Array<readonly unknown[]> = [];
  for (const output of outputs as Array<typeof first>) {
    if (output.columns.join(',') !== first.columns.join(',')) throw new Error(`ClickHouse table ${table}: events give different columns`);
    for (const row of output.rows) rows.push(row);
  }
  return { table, columns: first.columns, rows };
}

/** Live path: consumes the projection's topics from the beginning, at least once. */
export async function startClickHouseProjection(
  analytics: Analytics,
  bus: MessageBus,
  projection: ClickHouseProjection,
  options: { topicPrefix: string; logger: Logger; quarantineDb: Knex },
): Promise<Consumer> {
  const topics = projection.categories.map((category) => topicForCategory(options.topicPrefix, category));
  await bus.ensureTopics(topics);
  return bus.subscribe({
    groupId: clickHouseProjectionGroupId(projection),
    topics,
    fromBeginning: true,
    // Events this projection ignores are skipped below by their header: their payload is not fetched.
    valueTypes: projection.handles,
    // A batch is the messages of one partition that are ready: while an insert runs, the next
    // uploads gather, so the blocks grow with the load (and stay one event when it is light).
    batchHandler: async (messages) => {
      // The relay names the type in a header: events this projection ignores are not even parsed
      // (a session topic carries MBs of telemetry the laps table does not need, and vice versa).
      const wanted = messages.filter((message) => {
        const type = message.headers['event-type'];
        return type === undefined || projection.handles.includes(type);
      });
      if (wanted.length === 0) return;
      // Other errors are transient: the bus retries (a failing batch comes again one message at a time).
      await applyEventsToClickHouse(
        analytics,
        projection,
        wanted.map((message) => decodeEnvelope(message.value)),
        { onUnapplicable: (event, error) => recordQuarantine(options.quarantineDb, quarantineEntry(projection.name, event, error), options.logger) },
      );
    },
  });
}

/**
 * The `analytics-projections` worker role: every ClickHouse projection, live. With embedded chDB
 * only one process may open the data directory, which `arena start` (one process) satisfies; a
 * split deployment points CLICKHOUSE_URL at a server (docs/analytics-port.md).
 */
export async function startClickHouseProjectionConsumers(services: Services, projections: readonly ClickHouseProjection[]): Promise<RunningRole> {
  const consumers: Consumer[] = [];
  for (const projection of projections) {
    await migrateClickHouseProjection(services.analytics, projection);
    consumers.push(
      await startClickHouseProjection(services.analytics, services.bus, projection, {
        topicPrefix: services.config.TOPIC_PREFIX,
        logger: services.logger.child({ projection: projection.name }),
        quarantineDb: services.db,
      }),
    );
  }
  return { name: 'analytics-projections', stop: async () => void (await Promise.all(consumers.map((consumer) => consumer.stop()))) };
}
