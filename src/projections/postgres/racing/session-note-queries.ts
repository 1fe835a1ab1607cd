import type { Knex } from 'knex';

export interface SessionNoteRow {
  id: string;
  session_id: string;
  author_id: string;
  text: string;
  created_at: Date;
}

/** A session's notes, oldest first. */
export function listSessionNotes(db: Knex, sessionId: string): Promise<SessionNoteRow[]> {
  return db<SessionNoteRow>('telemetry_session_notes').where({ session_id: sessionId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select('*');
}
