import { rebuildProjection } from '../../../src/projections/postgres/projection-rebuild';
import { usersProjection } from '../../../src/projections/postgres/identity/users-projection';
import { readableHistory } from '../../support/readable-history';
import { http, startTestSystem, type TestSystem } from '../../support/test-system';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(async () => {
  await system?.stop();
});

const snapshot = async () => {
  const users = await system.services.db('users').select('*').orderBy('id');
  const revisions = await system.services.db('projection_revisions').where({ projection: 'users' }).select('stream_id', 'revision').orderBy('stream_id');
  return { users, revisions };
};

describe('users projection: replay gives the live rows', () => {
  it('rebuilds from history into fresh tables with exactly the rows the live path wrote', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++) {
      const name = `replay_${i}_${Date.now().toString(36)}`;
      const res = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
      expect(res.status).toBe(201);
      tokens.push(String(res.body.token));
      if (i % 3 === 0) {
        await http(system.url, 'POST', '/api/v1/auth/login', { body: { username: name, password: 'SecurePass123' } });
        await http(system.url, 'PUT', '/api/v1/users/me', { token: String(res.body.token), body: { full_name: `Driver ${i}` } });
      }
    }
    const live = await snapshot();
    expect(live.users).toHaveLength(12);
    // The rebuild reads history in global order: wait until it can read every write answered above.
    await readableHistory(system.services.store, system.services.db);

    // Readers keep reading while the rebuild swaps tables: they must never see a partial model.
    let reading = true;
    const counts: number[] = [];
    const reader = (async () => {
      while (reading) {
        const [{ count }] = await system.services.db('users').count<{ count: string }[]>('* as count');
        counts.push(Number(count));
      }
    })();
    const result = await rebuildProjection(system.services.db, system.services.store, usersProjection, { logger: system.services.logger });
    reading = false;
    await reader;

    expect(result.eventsApplied).toBeGreaterThan(12);
    expect(await snapshot()).toEqual(live);
    expect(counts.length).toBeGreaterThan(0);
    expect([...new Set(counts)]).toEqual([12]);

    // The live path keeps working on the swapped-in tables, without re-applying old events.
    const name = `after_${Date.now().toString(36)}`;
    const res = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
    expect(res.status).toBe(201);
    expect((await http(system.url, 'GET', '/api/v1/auth/me', { token: String(res.body.token) })).status).toBe(200);
    expect((await snapshot()).users).toHaveLength(13);
  });
});

describe('users projection: the replay swap and a live writer', () => {
  it('a writer holding its stream revisions when the swap starts writes its rows and commits; the swap then completes (no deadlock)', async () => {
    const name = `swap_${Date.now().toString(36)}`;
    const registered = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
    expect(registered.status).toBe(201);
    await readableHistory(system.services.store, system.services.db);
    const { db } = system.services;
    const userId = String((registered.body.user as { id: string }).id);
    // A live writer between its two steps: projection_revisions locked (as lockAppliedRevisions
    // does), its read-model row not written yet.
    const writer = await db.transaction();
    try {
      await writer.raw(`UPDATE projection_revisions SET revision = revision WHERE projection = 'users' AND stream_id = ?`, [`user-${userId}`]);
      const swap = rebuildProjection(db, system.services.store, usersProjection, { logger: system.services.logger });
      const outcome = swap.then(
        () => 'swapped',
        (error: unknown) => `failed: ${String(error)}`,
      );
      // Until the swap waits for a table lock.
      for (let waited = 0; ; waited += 20) {
        const { rows } = await db.raw<{ rows: unknown[] }>(`SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted AND l.mode = 'ExclusiveLock' AND c.relname IN ('users', 'projection_revisions')`);
        if (rows.length > 0) break;
        if (waited > 30_000) throw new Error('the swap never waited for the live tables');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await writer.raw(`UPDATE users SET last_login = now() WHERE id = ?`, [userId]);
      await writer.commit();
      expect(await outcome).toBe('swapped');
    } finally {
      if (!writer.isCompleted()) await writer.rollback();
    }
  }, 60_000);
});
