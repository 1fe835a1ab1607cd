import type { Knex } from 'knex';
import { Client, type QueryArrayResult } from 'pg';

/**
 * A named (prepared) statement run on a connection of the knex pool, without knex's query
 * builder: for hot reads whose SQL never changes. PostgreSQL parses and plans a named statement
 * once per connection; each later run sends only its parameters. Rows come back as arrays, in the
 * order of the select list, with node-postgres's usual type parsing.
 */
export interface PreparedStatement {
  /** Unique in the process: node-postgres keeps one prepared statement per name and connection. */
  readonly name: string;
  readonly text: string;
}

export async function runPrepared(db: Knex, statement: PreparedStatement, values: readonly unknown[]): Promise<unknown[][]> {
  // The same pool the rest of the process uses (its size and settings), as postgres-listener.ts does.
  const acquired: unknown = await db.client.acquireConnection();
  if (!(acquired instanceof Client)) {
    await db.client.releaseConnection(acquired);
    throw new Error('the knex pool did not hand out a pg Client');
  }
  try {
    const result: QueryArrayResult<unknown[]> = await acquired.query({ name: statement.name, text: statement.text, values: [...values], rowMode: 'array' });
    return result.rows;
  } finally {
    // A connection that failed was marked disposed by knex: the pool discards it on release.
    await db.client.releaseConnection(acquired);
  }
}
