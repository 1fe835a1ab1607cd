import type { Knex } from 'knex';
import { z } from 'zod';
import type { JsonValue } from '../eventstore/event-store';
import type { SnapshotStore, StoredSnapshot } from './snapshot-store';

const TABLE = 'aggregate_snapshots';

const SnapshotRow = z.object({
  stream_id: z.string(),
  revision: z.union([z.string(), z.number()]).transform((value) => BigInt(value)),
  event_id: z.string(),
  schema: z.string(),
  version: z.number().int(),
  state: z.custom<JsonValue>((value) => value !== undefined),
});

/**
 * Snapshots in the read-model PostgreSQL, one row per stream (the latest). The read-model database
 * exists whatever the event store is (PostgreSQL or EventStoreDB), and snapshots kept outside the
 * event store never reach the relay, the bus or a replay.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly db: Knex) {}

  /** Idempotent, also when processes start together (CREATE TABLE IF NOT EXISTS alone races in PostgreSQL). */
  async migrate(): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [TABLE]);
      await trx.raw(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      stream_id text PRIMARY KEY,
      revision bigint NOT NULL,
      event_id text NOT NULL,
      schema text NOT NULL,
      version integer NOT NULL,
      state jsonb NOT NULL,
      saved_at timestamptz NOT NULL DEFAULT now()
    )`);
    });
  }

  async load(streamId: string): Promise<StoredSnapshot | null> {
    const row: unknown = await this.db(TABLE).where({ stream_id: streamId }).first();
    if (row === undefined) return null;
    const parsed = SnapshotRow.parse(row);
    return { streamId: parsed.stream_id, revision: parsed.revision, eventId: parsed.event_id, schema: parsed.schema, version: parsed.version, state: parsed.state };
  }

  async save(snapshot: StoredSnapshot): Promise<void> {
    await this.db.raw(
      `INSERT INTO ${TABLE} (stream_id, revision, event_id, schema, version, state, saved_at)
       VALUES (?, ?, ?, ?, ?, ?::jsonb, now())
       ON CONFLICT (stream_id) DO UPDATE
         SET revision = EXCLUDED.revision, event_id = EXCLUDED.event_id, schema = EXCLUDED.schema,
             version = EXCLUDED.version, state = EXCLUDED.state, saved_at = EXCLUDED.saved_at
         WHERE ${TABLE}.revision < EXCLUDED.revision
            OR ${TABLE}.schema <> EXCLUDED.schema OR ${TABLE}.version <> EXCLUDED.version`,
      [snapshot.streamId, snapshot.revision.toString(), snapshot.eventId, snapshot.schema, snapshot.version, JSON.stringify(snapshot.state)],
    );
  }

  async deleteAll(): Promise<number> {
    return this.db(TABLE).del();
  }
}
