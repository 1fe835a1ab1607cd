/**
 * What PostgreSQL itself does, as references for the app's commands: the append transaction an
 * event store needs (lock the stream row, insert a jsonb event, update the revision, notify) and a
 * plain INSERT, each from `concurrency` clients for a fixed time, in a schema of their own on the
 * same server. And the server's commit counter, for the idle measurement.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const SCHEMA = 'bench_raw';
const EVENT = JSON.stringify({ session_name: 'bench', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45, owner: randomUUID() });

export interface RawRate {
  readonly perSecond: number;
  readonly transactions: number;
}

async function prepare(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.streams (stream_id text PRIMARY KEY, current_revision bigint NOT NULL)`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL REFERENCES ${SCHEMA}.streams (stream_id),
    revision bigint NOT NULL, type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream_id, revision))`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, data jsonb NOT NULL)`);
}

async function forDuration(pool: pg.Pool, concurrency: number, durationMs: number, transaction: (client: pg.PoolClient) => Promise<void>): Promise<RawRate> {
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  let transactions = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() < deadline) {
          await transaction(client);
          transactions += 1;
        }
      } finally {
        client.release();
      }
    }),
  );
  return { transactions, perSecond: transactions / ((performance.now() - startedAt) / 1000) };
}

/** A new stream per transaction, as creating a session does; new and existing streams cost the same locks. */
async function appendTransaction(client: pg.PoolClient): Promise<void> {
  const streamId = `bench-${randomUUID()}`;
  await client.query('BEGIN');
  try {
    const locked = await client.query(`SELECT current_revision FROM ${SCHEMA}.streams WHERE stream_id = $1 FOR UPDATE`, [streamId]);
    if (locked.rowCount === 0) await client.query(`INSERT INTO ${SCHEMA}.streams (stream_id, current_revision) VALUES ($1, -1) ON CONFLICT (stream_id) DO NOTHING`, [streamId]);
    await client.query(`INSERT INTO ${SCHEMA}.events (event_id, stream_id, revision, type, data, metadata) VALUES ($1, $2, 0, 'BenchEvent', $3, $4)`, [
      randomUUID(),
      streamId,
      EVENT,
      '{}',
    ]);
    await client.query(`UPDATE ${SCHEMA}.streams SET current_revision = 0 WHERE stream_id = $1`, [streamId]);
    await client.query(`SELECT pg_notify('bench_raw_appended', '')`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

export async function measureRawPostgres(connectionString: string, concurrency: number, durationMs: number): Promise<{ append: RawRate; plainInsert: RawRate }> {
  const pool = new pg.Pool({ connectionString, max: concurrency });
  try {
    await prepare(pool);
    const append = await forDuration(pool, concurrency, durationMs, appendTransaction);
    const plainInsert = await forDuration(pool, concurrency, durationMs, async (client) => {
      await client.query(`INSERT INTO ${SCHEMA}.plain (data) VALUES ($1)`, [EVENT]);
    });
    return { append, plainInsert };
  } finally {
    await pool.end();
  }
}

/** Transactions the server committed in `database` per second over `durationMs` (our own reads subtracted). */
export async function committedPerSecond(connectionString: string, database: string, durationMs: number): Promise<number> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const read = async (): Promise<number> => {
      // Statistics are per transaction: clear the snapshot so each read sees the current counters.
      await client.query('SELECT pg_stat_clear_snapshot()');
      const result = await client.query<{ commits: string }>('SELECT xact_commit::text AS commits FROM pg_stat_database WHERE datname = $1', [database]);
      return Number(result.rows[0]?.commits ?? 0);
    };
    const before = await read();
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    const after = await read();
    // The two reads commit two transactions of their own (each query is one).
    return Math.max(0, after - before - 2) / (durationMs / 1000);
  } finally {
    await client.end();
  }
}
