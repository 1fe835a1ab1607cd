import { rebuildProjection } from '../../../src/projections/postgres/projection-rebuild';
import { sessionNotesProjection } from '../../../src/projections/postgres/racing/session-notes-projection';
import { projectionsForReplay } from '../../../src/runtime/app-container';
import { createSession, registerDriver, type Driver } from '../../support/racing';
import { http, startTestSystem, type TestSystem } from '../../support/test-system';

/** Session notes: one feature added in one context module (src/contexts/racing.module.ts), end to end. */
let system: TestSystem;
let owner: Driver;
let other: Driver;
let sessionId: string;

beforeAll(async () => {
  system = await startTestSystem();
  owner = await registerDriver(system.url, 'notes_owner');
  other = await registerDriver(system.url, 'notes_other');
  sessionId = await createSession(system.url, owner);
});
afterAll(async () => {
  await system?.stop();
});

const notesPath = (id: string) => `/api/v1/telemetry/sessions/${id}/notes`;

describe('notes on telemetry sessions', () => {
  it('adds notes and lists them oldest first, readable right after the answer', async () => {
    const first = await http(system.url, 'POST', notesPath(sessionId), { token: owner.token, body: { text: '  brake later into T1 ' } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: expect.any(String), session_id: sessionId, text: 'brake later into T1', created_at: expect.any(String) });
    const second = await http(system.url, 'POST', notesPath(sessionId), { token: owner.token, body: { text: 'new tyres from lap 5' } });
    expect(second.status).toBe(201);

    const listed = await http(system.url, 'GET', notesPath(sessionId), { token: owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body.notes).toEqual([first.body, second.body]);
  });

  it("refuses another user's session (403) and an unknown one (404), and stores nothing", async () => {
    const foreign = await http(system.url, 'POST', notesPath(sessionId), { token: other.token, body: { text: 'not mine' } });
    expect(foreign.status).toBe(403);
    expect((await http(system.url, 'GET', notesPath(sessionId), { token: other.token })).status).toBe(403);
    const unknown = await http(system.url, 'POST', notesPath('00000000-0000-4000-8000-000000000000'), { token: owner.token, body: { text: 'nowhere' } });
    expect(unknown.status).toBe(404);
    const rows = await system.services.db('telemetry_session_notes').where({ session_id: sessionId });
    expect(rows.map((row: { text: string }) => row.text).sort()).toEqual(['brake later into T1', 'new tyres from lap 5']);
  });

  it('answers bad input with the contract error body: blank, too long, wrong type; not signed in 401; a malformed id 404', async () => {
    for (const body of [{ text: '   ' }, { text: 'x'.repeat(2001) }, { text: 42 }, {}]) {
      const res = await http(system.url, 'POST', notesPath(sessionId), { token: owner.token, body });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status_code: 400, code: 'VALIDATION_ERROR', detail: expect.any(String), error: expect.any(String) });
    }
    expect((await http(system.url, 'POST', notesPath(sessionId), { body: { text: 'anonymous' } })).status).toBe(401);
    // A path id that fails its schema is a resource that does not exist (docs/api-conventions.md).
    expect((await http(system.url, 'GET', notesPath('not-a-uuid'), { token: owner.token })).status).toBe(404);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = await http(system.url, 'GET', '/api/v1/openapi.json');
    const path = (doc.body.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)['/telemetry/sessions/{session_id}/notes'];
    expect(Object.keys(path ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(path?.post?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '401', '403', '404', '422']));
  });

  it('replays from history to the same rows, and `arena replay session_notes` knows it', async () => {
    expect(projectionsForReplay('session_notes')).toEqual([sessionNotesProjection]);
    const before = await system.services.db('telemetry_session_notes').orderBy('id').select('*');
    const result = await rebuildProjection(system.services.db, system.services.store, sessionNotesProjection, { logger: system.services.logger });
    expect(result).toBeDefined();
    const after = await system.services.db('telemetry_session_notes').orderBy('id').select('*');
    expect(after).toEqual(before);
    expect(after).toHaveLength(2);
  });
});
