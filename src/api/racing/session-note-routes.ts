import { z } from 'zod';
import { addSessionNote } from '../../commands/racing/session-note-commands';
import { MAX_SESSION_NOTE_LENGTH, sessionNotesStreamId } from '../../domain/racing/session-notes';
import type { CommandServices } from '../../commands/command-states';
import { listSessionNotes } from '../../projections/postgres/racing/session-note-queries';
import { sessionNotesProjection } from '../../projections/postgres/racing/session-notes-projection';
import { requireOwnedTelemetrySession } from '../../projections/postgres/racing/telemetry-session-queries';
import { defineRoute } from '../shared/route';
import { SessionParams } from './telemetry-schemas';

const AddNoteBody = z.object({ text: z.string().max(MAX_SESSION_NOTE_LENGTH).meta({ description: `The note (1-${MAX_SESSION_NOTE_LENGTH} characters, not blank)` }) });
const NoteResponse = z.object({ id: z.uuid(), session_id: z.uuid(), text: z.string(), created_at: z.string() });
const NotesResponse = z.object({ notes: z.array(NoteResponse) });

const noteBody = (note: { id: string; session_id: string; text: string; created_at: Date | string }) => ({
  id: note.id,
  session_id: note.session_id,
  text: note.text,
  created_at: new Date(note.created_at).toISOString(),
});

/** Notes on a telemetry session (an addition to the LapXcel contract: the owner's own remarks). */
export function sessionNoteRoutes(services: CommandServices) {
  return [
    defineRoute({
      method: 'post',
      path: '/telemetry/sessions/:session_id/notes',
      summary: 'Add a note to one of your telemetry sessions',
      tags: ['telemetry'],
      auth: 'required',
      waitFor: sessionNotesProjection,
      request: { params: SessionParams, body: AddNoteBody },
      responses: {
        201: { description: 'The note', schema: NoteResponse },
        403: { description: "Another user's session" },
        422: { description: 'The session already has as many notes as it takes' },
      },
      handler: async (ctx) => {
        const sessionId = ctx.params.session_id;
        await requireOwnedTelemetrySession(services.db, sessionId, ctx.user.id);
        const { note, revision } = await addSessionNote(ctx.command, { sessionId, authorId: ctx.user.id, text: ctx.body.text });
        return {
          status: 201,
          // Read-your-writes (waitFor): the next GET of the notes lists this one.
          written: { streamId: sessionNotesStreamId(sessionId), revision },
          body: noteBody({ id: note.noteId, session_id: note.sessionId, text: note.text, created_at: note.addedAt }),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/telemetry/sessions/:session_id/notes',
      summary: "One of your telemetry sessions' notes, oldest first",
      tags: ['telemetry'],
      auth: 'required',
      request: { params: SessionParams },
      responses: { 200: { description: 'The notes', schema: NotesResponse }, 403: { description: "Another user's session" } },
      handler: async ({ params, user }) => {
        await requireOwnedTelemetrySession(services.db, params.session_id, user.id);
        return { status: 200, body: { notes: (await listSessionNotes(services.db, params.session_id)).map(noteBody) } };
      },
    }),
  ];
}
