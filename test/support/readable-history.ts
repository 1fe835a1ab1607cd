import type { Knex } from 'knex';
import type { EventStore, RecordedEvent } from '../../src/infrastructure/eventstore/event-store';

/**
 * Every event of the PostgreSQL store, in global order, once `readAll` shows them all. readAll
 * holds back an event while an older transaction runs anywhere on the server (the position-gap
 * rule, docs/event-store.md), and suites share the test server; so a write just answered (the API
 * applies its own events to stream-local read models before the relay can read them) may not be
 * readable yet. Fails after `timeoutMs` rather than returning a partial history.
 */
export async function readableHistory(store: EventStore, db: Knex, timeoutMs = 10_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = Number((await db.raw<{ rows: { n: string }[] }>('SELECT count(*) AS n FROM eventstore.events')).rows[0]!.n);
    const events = await store.readAll({ maxCount: 1_000_000 });
    if (events.length === stored) return events;
    if (Date.now() > deadline) throw new Error(`readAll shows ${events.length} of ${stored} stored events after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
