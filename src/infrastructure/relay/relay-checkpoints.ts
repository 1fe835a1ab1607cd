import type { Knex } from 'knex';
import { formatPosition, parsePosition, type GlobalPosition } from '../eventstore/event-store';

/** Where the relay got to, stored in the read-model database (whatever the event store is). */
export class RelayCheckpoints {
  constructor(private readonly db: Knex) {}

  async migrate(): Promise<void> {
    await this.db.raw(`CREATE TABLE IF NOT EXISTS relay_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async load(name: string): Promise<GlobalPosition | undefined> {
    const row = await this.db('relay_checkpoints').where({ name }).first<{ position: string } | undefined>();
    return row ? parsePosition(row.position) : undefined;
  }

  async save(name: string, position: GlobalPosition): Promise<void> {
    await this.db('relay_checkpoints')
      .insert({ name, position: formatPosition(position), updated_at: this.db.fn.now() })
      .onConflict('name')
      .merge();
  }
}
