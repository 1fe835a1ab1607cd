import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Analytics } from '../../infrastructure/analytics/analytics';
import type { Consumer, MessageBus } from '../../infrastructure/bus/message-bus';
import type { Services } from '../../infrastructure/services';
import { streamCategory, type RecordedEvent } from '../../infrastructure/eventstore/event-store';
import type { RunningRole } from '../../infrastructure/running-role';
import { decodeEnvelope, topicForCategory } from '../../infrastructure/bus/event-envelope';
import { isUnapplicableEventError, quarantineEntry, recordQuarantine } from '../projection-quarantine';
import type { ClickHouseProjection } from './clickhouse-projection';

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
 * Inserts the event's rows, each table's rows as one compact insert whose deduplication token is
 * the event id: a redelivered or replayed event writes nothing new. `tableName` maps a projection
 * table to the table actually written (replay writes to its rebuild tables). Returns the rows written.
 */
export async function applyToClickHouse(
  analytics: Analytics,
  projection: ClickHouseProjection,
  event: RecordedEvent,
  tableName: (table: string) => string = (table) => table,
): Promise<number> {
  if (!clickHouseProjectionHandles(projection, event)) return 0;
  let written = 0;
  for (const { table, columns, rows } of projection.rows(event)) {
    if (rows.length === 0) continue;
    await analytics.insertCompact(tableName(table), { columns, rows }, { deduplicationToken: event.id });
    written += rows.length;
  }
  return written;
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
    handler: async (message) => {
      // The relay names the type in a header: events this projection ignores are not even parsed
      // (a session topic carries MBs of telemetry the laps table does not need, and vice versa).
      const type = message.headers['event-type'];
      if (type !== undefined && !projection.handles.includes(type)) return;
      const event = decodeEnvelope(message.value);
      try {
        await applyToClickHouse(analytics, projection, event);
      } catch (error) {
        if (!isUnapplicableEventError(error)) throw error; // transient: the bus retries
        await recordQuarantine(options.quarantineDb, quarantineEntry(projection.name, event, error), options.logger);
      }
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
