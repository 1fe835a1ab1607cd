import type { Knex } from 'knex';
import type { EventStore } from '../../src/infrastructure/eventstore/event-store';

/**
 * Resolves once `readAll` returns every event stored so far. The PostgreSQL store holds a write back
 * from `readAll` while an older transaction runs anywhere on the server (ENGINE-NOTES, the position
 * gap), and test files share the server: a test that compares a read of the whole history with rows
 * written from stream reads (own writes) or from an earlier read waits for all of it first.
 */
export async function everyEventReadable(db: Knex, store: EventStore, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const stored = Number((await db.raw<{ rows: { n: string }[] }>('SELECT count(*) AS n FROM eventstore.events')).rows[0]!.n);
  for (;;) {
    const readable = (await store.readAll({ maxCount: stored + 1 })).length;
    if (readable >= stored) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${readable} of ${stored} stored events readable`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
