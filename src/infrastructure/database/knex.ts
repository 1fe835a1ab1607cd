import knex, { type Knex } from 'knex';

export type { Knex };

/** knex over node-postgres. int8 columns stay strings (they may exceed 2^53); callers convert with BigInt. */
export function createKnex(connectionString: string, pool: { min: number; max: number } = { min: 0, max: 10 }): Knex {
  return knex({ client: 'pg', connection: { connectionString }, pool });
}
