import pg from 'pg';

/**
 * The reference of the replay rows: one pass over every stored event, page by page (5 000) in
 * position order, every column, as a reader of the store would (the pg driver parses the jsonb).
 */
export async function rawReadPass(databaseUrl: string): Promise<{ events: number; perSecond: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const startedAt = performance.now();
    let events = 0;
    let after = '0';
    for (;;) {
      const page = await client.query<{ position: string }>(
        // ORDER BY the column, not the text alias of the same name (text order skipped and repeated pages).
        'SELECT global_position::text AS position, transaction_id::text, event_id, stream_id, revision::text, type, data, metadata, created_at FROM eventstore.events WHERE global_position > $1::bigint ORDER BY events.global_position LIMIT 5000',
        [after],
      );
      if (page.rows.length === 0) break;
      events += page.rows.length;
      after = page.rows[page.rows.length - 1]!.position;
    }
    return { events, perSecond: events / ((performance.now() - startedAt) / 1000) };
  } finally {
    await client.end();
  }
}
