import knexFactory, { type Knex } from 'knex';
import { PostgresSnapshotStore } from '../../../src/infrastructure/snapshots/postgres-snapshot-store';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';
import { snapshotStoreContract } from './snapshot-store.contract';

describe('PostgresSnapshotStore', () => {
  let databaseUrl: string;
  let knex: Knex;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('snapshots');
    knex = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 8 } });
  });
  afterAll(async () => {
    await knex?.destroy();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  snapshotStoreContract('PostgreSQL', async () => {
    const store = new PostgresSnapshotStore(knex);
    await Promise.all([store.migrate(), store.migrate()]);
    return store;
  });
});
