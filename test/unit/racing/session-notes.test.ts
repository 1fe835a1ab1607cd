import { MAX_NOTES_PER_SESSION, MAX_SESSION_NOTE_LENGTH, sessionNotesDecider, type SessionNoteAdded } from '../../../src/domain/racing/session-notes';
import { UnprocessableError, ValidationError } from '../../../src/domain/shared/errors';
import { deciderSpec } from '../../support/decider-spec';

const spec = deciderSpec(sessionNotesDecider);
const SESSION = '00000000-0000-4000-8000-000000000001';
const AUTHOR = '00000000-0000-4000-8000-0000000000aa';
const NOW = '2026-11-30T05:00:00.000Z';

const added = (noteId: string, text = 'brake later into T1'): SessionNoteAdded => ({
  type: 'SessionNoteAdded',
  data: { noteId, sessionId: SESSION, authorId: AUTHOR, text, addedAt: NOW },
});
const addNote = (noteId: string, text: string) => ({ type: 'AddSessionNote' as const, noteId, sessionId: SESSION, authorId: AUTHOR, text, now: NOW });

describe('session notes decider', () => {
  it('adds a note, its text trimmed', () => {
    spec.given([]).when(addNote('n1', '  brake later into T1 \n')).then([added('n1')]);
  });

  it('adds a second note after the first', () => {
    spec.given([added('n1')]).when(addNote('n2', 'new tyres')).then([added('n2', 'new tyres')]);
  });

  it('a note id already added is a retry: nothing changes', () => {
    spec.given([added('n1')]).when(addNote('n1', 'brake later into T1')).then([]);
  });

  it('refuses a blank note', () => {
    spec.given([]).when(addNote('n1', ' \t\n ')).thenThrows(ValidationError, 'A note needs some text');
  });

  it(`refuses a note longer than ${MAX_SESSION_NOTE_LENGTH} characters, and takes one of exactly that length`, () => {
    spec.given([]).when(addNote('n1', 'x'.repeat(MAX_SESSION_NOTE_LENGTH + 1))).thenThrows(ValidationError, `at most ${MAX_SESSION_NOTE_LENGTH} characters`);
    spec.given([]).when(addNote('n1', 'x'.repeat(MAX_SESSION_NOTE_LENGTH))).then([added('n1', 'x'.repeat(MAX_SESSION_NOTE_LENGTH))]);
  });

  it(`keeps the stream bounded: at most ${MAX_NOTES_PER_SESSION} notes per session`, () => {
    const full = Array.from({ length: MAX_NOTES_PER_SESSION }, (_, i) => added(`n${i}`));
    spec.given(full.slice(1)).when(addNote('last', 'one more')).then([added('last', 'one more')]);
    spec.given(full).when(addNote('over', 'one too many')).thenThrows(UnprocessableError, `at most ${MAX_NOTES_PER_SESSION} notes`);
  });
});
