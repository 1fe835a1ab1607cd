import { z } from 'zod';
import type { Config } from '../../infrastructure/config/config';
import type { Knex } from 'knex';
import { formatPosition, type EventStore, type GlobalPosition } from '../../infrastructure/eventstore/event-store';

/** What the event store holds beyond a position: how many events, and how old the oldest is. */
export interface EventStoreBacklog {
  /** Events after the position (a lower bound when `capped`). */
  events: number;
  capped: boolean;
  oldestPendingSec: number | null;
}

const BACKLOG_SCAN_CAP = 1000;

const backlogRow = z.object({ events: z.coerce.number(), oldest_pending_sec: z.coerce.number().nullable() });

/**
 * PostgreSQL store: counted in SQL, in the readers' order (transaction id, then sequence).
 * EventStoreDB has no count: up to 1000 events after the position are read and counted.
 */
export async function eventStoreBacklog(config: Config, db: Knex, store: EventStore, after: GlobalPosition | undefined): Promise<EventStoreBacklog> {
  if (!config.ESDB_URL) {
    const result = await db.raw(
      `SELECT count(*) AS events, extract(epoch FROM now() - min(created_at)) AS oldest_pending_sec
         FROM eventstore.events
        WHERE (transaction_id, global_position) > (?::text::xid8, ?::bigint)`,
      [String(after?.commit ?? 0n), String(after?.prepare ?? 0n)],
    );
    const row = backlogRow.parse(result.rows[0]);
    return { events: row.events, capped: false, oldestPendingSec: row.oldest_pending_sec };
  }
  const events = await store.readAll({ after, maxCount: BACKLOG_SCAN_CAP });
  const oldest = events[0];
  return {
    events: events.length,
    capped: events.length === BACKLOG_SCAN_CAP,
    oldestPendingSec: oldest ? Math.max(0, (Date.now() - oldest.createdAt.getTime()) / 1000) : null,
  };
}

const oldestRow = z.object({ oldest_pending_sec: z.coerce.number() }).optional();

/**
 * How old the oldest event after the position is, in seconds; null when there is none. One
 * indexed row (PostgreSQL) or one event (EventStoreDB), however long the backlog: cheap enough for
 * every /readyz call.
 */
export async function oldestPendingSec(config: Config, db: Knex, store: EventStore, after: GlobalPosition | undefined): Promise<number | null> {
  if (!config.ESDB_URL) {
    const result = await db.raw(
      `SELECT extract(epoch FROM now() - created_at) AS oldest_pending_sec
         FROM eventstore.events
        WHERE (transaction_id, global_position) > (?::text::xid8, ?::bigint)
        ORDER BY transaction_id, global_position
        LIMIT 1`,
      [String(after?.commit ?? 0n), String(after?.prepare ?? 0n)],
    );
    const row = oldestRow.parse(result.rows[0]);
    return row ? Math.max(0, row.oldest_pending_sec) : null;
  }
  const [oldest] = await store.readAll({ after, maxCount: 1 });
  return oldest ? Math.max(0, (Date.now() - oldest.createdAt.getTime()) / 1000) : null;
}

/** Every event in the store (replay progress' total); undefined where the store cannot count cheaply. */
export async function eventStoreSize(config: Config, db: Knex): Promise<number | undefined> {
  if (config.ESDB_URL) return undefined;
  const result = await db.raw('SELECT count(*) AS events FROM eventstore.events');
  return z.object({ events: z.coerce.number() }).parse(result.rows[0]).events;
}

export const describePosition = (position: GlobalPosition | undefined): string | null => (position ? formatPosition(position) : null);
