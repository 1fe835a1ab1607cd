import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { UnprocessableError, ValidationError } from '../shared/errors';

/**
 * A driver's notes on a telemetry session ("brake later into T1", "new tyres"), on a stream of
 * their own so the session's long telemetry stream is not read to add one. The stream is bounded:
 * a session takes at most MAX_NOTES_PER_SESSION notes. Who may write is the route's question (the
 * session's owner); the decider keeps the text rules and the bound.
 */
export const sessionNotesStreamId = (sessionId: string): string => `sessionnotes-${sessionId}`;
export const SESSION_NOTES_CATEGORY = 'sessionnotes';
export const MAX_SESSION_NOTE_LENGTH = 2000;
export const MAX_NOTES_PER_SESSION = 100;

export const SessionNoteAdded = defineEvent('SessionNoteAdded', {
  data: z.object({ noteId: z.string(), sessionId: z.string(), authorId: z.string(), text: z.string(), addedAt: z.string() }),
});
export type SessionNoteAdded = EventOf<typeof SessionNoteAdded>;
export type SessionNotesEvent = SessionNoteAdded;

export interface SessionNotes {
  noteIds: readonly string[];
}

export type SessionNotesCommand = { type: 'AddSessionNote'; noteId: string; sessionId: string; authorId: string; text: string; now: string };

export const initialSessionNotes = (): SessionNotes => ({ noteIds: [] });

export function evolveSessionNotes(state: SessionNotes, event: SessionNotesEvent): SessionNotes {
  switch (event.type) {
    case 'SessionNoteAdded':
      return { noteIds: [...state.noteIds, event.data.noteId] };
  }
}

export function decideSessionNotes(command: SessionNotesCommand, state: SessionNotes): SessionNotesEvent[] {
  switch (command.type) {
    case 'AddSessionNote': {
      // The same note id again is a retry of a note already added: nothing changes.
      if (state.noteIds.includes(command.noteId)) return [];
      const text = command.text.trim();
      if (text.length === 0) throw new ValidationError('A note needs some text', { location: 'body', fields: { text: 'must not be blank' } });
      if (text.length > MAX_SESSION_NOTE_LENGTH) {
        throw new ValidationError(`A note has at most ${MAX_SESSION_NOTE_LENGTH} characters`, { location: 'body', fields: { text: `at most ${MAX_SESSION_NOTE_LENGTH} characters` } });
      }
      if (state.noteIds.length >= MAX_NOTES_PER_SESSION) throw new UnprocessableError(`A session takes at most ${MAX_NOTES_PER_SESSION} notes`);
      const { noteId, sessionId, authorId, now } = command;
      return [{ type: 'SessionNoteAdded', data: { noteId, sessionId, authorId, text, addedAt: now } }];
    }
  }
}

export const sessionNotesDecider: Decider<SessionNotesCommand, SessionNotes, SessionNotesEvent> = {
  initialState: initialSessionNotes,
  evolve: evolveSessionNotes,
  decide: decideSessionNotes,
};
