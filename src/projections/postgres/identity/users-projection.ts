import type { Knex } from 'knex';
import { postgresProjection } from '../postgres-projection';


/** The `users` read model: one row per registered user (never the password hash). */
export const usersProjection = postgresProjection({
  name: 'users',
  categories: ['user'],
  tables: ['users'],
  // One row per user stream, written only by that stream's events.
  streamLocal: true,
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable('users')) return;
    await db.schema.createTable('users', (table) => {
      table.uuid('id').primary();
      table.text('username').notNullable();
      table.text('email').notNullable();
      table.text('full_name');
      table.boolean('is_active').notNullable().defaultTo(true);
      table.boolean('is_admin').notNullable().defaultTo(false);
      table.timestamp('created_at', { useTz: true }).notNullable();
      table.timestamp('updated_at', { useTz: true }).notNullable();
      table.timestamp('last_login', { useTz: true });
    });
  },
  fold: {
    tables: [{ table: 'users', key: 'id' }],
    on: {
      UserRegistered({ data }, rows) {
        rows.insertIgnore('users', { id: data.userId, username: data.username, email: data.email, full_name: data.fullName, created_at: data.registeredAt, updated_at: data.registeredAt });
      },
      UserLoggedIn({ data }, rows) {
        rows.update('users', data.userId, { last_login: data.loggedInAt });
      },
      UserProfileUpdated({ data }, rows) {
        rows.update('users', data.userId, { updated_at: data.updatedAt, email: data.email, full_name: data.fullName });
      },
    },
  },
});
