import type { Knex } from 'knex';
import { SESSION_NOTES_CATEGORY, type SessionNoteAdded } from '../../../domain/racing/session-notes';
import { insertOnlyRebuild, postgresProjection } from '../postgres-projection';

/** `telemetry_session_notes`: one row per note on a telemetry session. */
export const sessionNotesProjection = postgresProjection({
  name: 'session_notes',
  categories: [SESSION_NOTES_CATEGORY],
  tables: ['telemetry_session_notes'],
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable('telemetry_session_notes')) return;
    await db.schema.createTable('telemetry_session_notes', (table) => {
      table.uuid('id').primary();
      table.uuid('session_id').notNullable().index();
      table.uuid('author_id').notNullable();
      table.text('text').notNullable();
      table.timestamp('created_at', { useTz: true }).notNullable();
    });
  },
  on: {
    async SessionNoteAdded({ data }, trx) {
      await trx('telemetry_session_notes').insert(noteRow(data)).onConflict('id').ignore();
    },
  },
  // A rebuild's pages: one INSERT … SELECT each, no knex (the rows of `on` one by one).
  rebuild: insertOnlyRebuild('SessionNoteAdded', 'telemetry_session_notes', ['id'], ({ data }) => noteRow(data)),
  batchOn: {
    /** One multi-row insert per 1 000 notes; of duplicates the first wins, as one by one. */
    async SessionNoteAdded(events, trx) {
      for (let start = 0; start < events.length; start += 1000) {
        await trx('telemetry_session_notes').insert(events.slice(start, start + 1000).map(({ data }) => noteRow(data))).onConflict('id').ignore();
      }
    },
  },
});

const noteRow = (data: SessionNoteAdded['data']) => ({ id: data.noteId, session_id: data.sessionId, author_id: data.authorId, text: data.text, created_at: data.addedAt });
