import type { Knex } from 'knex';
import { formatPosition, formatStoreIdentity, parsePosition, type GlobalPosition, type StoreIdentity } from '../eventstore/event-store';

/**
 * A checkpoint names another store than the one it is read against: its position means nothing
 * there (PostgreSQL transaction ids vs EventStoreDB log offsets, or another instance's offsets).
 */
export class CheckpointStoreMismatchError extends Error {
  constructor(
    readonly checkpoint: string,
    readonly recordedStore: string,
    readonly currentStore: string,
  ) {
    super(
      `relay checkpoint '${checkpoint}' was written against the event store ${recordedStore}, but the event store is now ` +
        `${currentStore}: positions of one store mean nothing in another. Replay instead: delete the checkpoint ` +
        `(DELETE FROM relay_checkpoints WHERE name = '${checkpoint}') so the relay publishes this store's history from ` +
        'its start, and rebuild the read models from it (`arena replay all`); see docs/event-store.md',
    );
    this.name = 'CheckpointStoreMismatchError';
  }
}

/**
 * The checkpoint is not where the relay that saves it left it: someone else moved or deleted it (an
 * operator resetting it to publish history again, another relay of the same name). The relay loads
 * it again rather than overwrite it.
 */
export class CheckpointMovedError extends Error {
  constructor(readonly checkpoint: string) {
    super(`relay checkpoint '${checkpoint}' was changed by someone else since this relay saved it`);
    this.name = 'CheckpointMovedError';
  }
}

/**
 * Where the relay got to, stored in the read-model database (whatever the event store is), with
 * the store it belongs to (`<kind>:<instance id>`). Rows written before stores were recorded have
 * no store: only PostgreSQL had run then, so they are taken as the PostgreSQL store's and claimed
 * by its next save; an EventStoreDB store refuses them.
 */
export class RelayCheckpoints {
  constructor(private readonly db: Knex) {}

  async migrate(): Promise<void> {
    await this.db.raw(`CREATE TABLE IF NOT EXISTS relay_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await this.db.raw('ALTER TABLE relay_checkpoints ADD COLUMN IF NOT EXISTS store text');
  }

  async load(name: string, store: StoreIdentity): Promise<GlobalPosition | undefined> {
    const row = await this.db('relay_checkpoints').where({ name }).first<{ position: string; store: string | null } | undefined>();
    if (!row) return undefined;
    const current = formatStoreIdentity(store);
    if (row.store === null) {
      if (store.kind !== 'postgres') throw new CheckpointStoreMismatchError(name, 'postgres (recorded before stores were named)', current);
    } else if (row.store !== current) {
      throw new CheckpointStoreMismatchError(name, row.store, current);
    }
    return parsePosition(row.position);
  }

  /**
   * `from`: only when the checkpoint still is there (a position; `'none'`: no checkpoint yet), else
   * CheckpointMovedError and nothing written. Without it the checkpoint is written whatever it was.
   */
  async save(name: string, position: GlobalPosition, store: StoreIdentity, from?: GlobalPosition | 'none'): Promise<void> {
    // The batch was published durably before this; a checkpoint lost in a crash only republishes it.
    // One statement, its own transaction: set_config(…, true) holds until that commit.
    if (from !== undefined) {
      const moved =
        from === 'none'
          ? await this.db.raw<{ rowCount: number | null }>(
              `INSERT INTO relay_checkpoints (name, position, store, updated_at)
               SELECT ?, ?, ?, now() FROM (SELECT set_config('synchronous_commit', 'off', true)) AS derived
               ON CONFLICT (name) DO NOTHING`,
              [name, formatPosition(position), formatStoreIdentity(store)],
            )
          : await this.db.raw<{ rowCount: number | null }>(
              `UPDATE relay_checkpoints SET position = ?, store = ?, updated_at = now()
               FROM (SELECT set_config('synchronous_commit', 'off', true)) AS derived
               WHERE name = ? AND position = ?`,
              [formatPosition(position), formatStoreIdentity(store), name, formatPosition(from)],
            );
      if (moved.rowCount !== 1) throw new CheckpointMovedError(name);
      return;
    }
    await this.db.raw(
      `INSERT INTO relay_checkpoints (name, position, store, updated_at)
       SELECT ?, ?, ?, now() FROM (SELECT set_config('synchronous_commit', 'off', true)) AS derived
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, store = excluded.store, updated_at = excluded.updated_at`,
      [name, formatPosition(position), formatStoreIdentity(store)],
    );
  }
}
