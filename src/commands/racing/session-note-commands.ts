import { sessionNotesDecider, sessionNotesStreamId, type SessionNoteAdded } from '../../domain/racing/session-notes';
import type { CommandContext } from '../command-context';
import { handleCommand } from '../handle-command';

export interface AddSessionNoteInput {
  sessionId: string;
  authorId: string;
  text: string;
}

/** Adds a note to a session's notes stream; the caller has checked that the author owns the session. */
export async function addSessionNote(ctx: CommandContext, input: AddSessionNoteInput): Promise<{ note: SessionNoteAdded['data']; revision: bigint | null }> {
  const noteId = ctx.newId();
  const outcome = await handleCommand(
    ctx.store,
    sessionNotesStreamId(input.sessionId),
    sessionNotesDecider,
    { type: 'AddSessionNote', noteId, sessionId: input.sessionId, authorId: input.authorId, text: input.text, now: ctx.now().toISOString() },
    { metadata: ctx.metadata },
  );
  const added = outcome.events.find((event) => event.data.noteId === noteId);
  if (added === undefined) throw new Error('the note was not recorded');
  return { note: added.data, revision: outcome.revision };
}
