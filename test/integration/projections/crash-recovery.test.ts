import { randomUUID } from 'node:crypto';
import { logInUser } from '../../../src/commands/identity/log-in-user';
import { registerUser } from '../../../src/commands/identity/register-user';
import { ScryptPasswordHasher } from '../../../src/infrastructure/security/password-hasher';
import { createTestDatabase } from '../../support/postgres';
import { startTestSystem } from '../../support/test-system';

const cheapHasher = new ScryptPasswordHasher({ N: 1024, r: 8, p: 1 });

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('nothing is lost between append and projection', () => {
  it('events appended by a process that stopped before relaying are projected after restart', async () => {
    const databaseUrl = await createTestDatabase('crash');
    // First life: only appends, as if the process died right after the event store commit.
    const first = await startTestSystem({ databaseUrl, roles: { relay: false, projections: false, api: false } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const name = `crash_${i}_${randomUUID().slice(0, 6)}`;
      const outcome = await registerUser(
        { store: first.services.store, now: () => new Date(), newId: randomUUID, metadata: {} },
        cheapHasher,
        { username: name, email: `${name}@x.io`, password: 'SecurePass123', fullName: null },
      );
      ids.push(outcome.userId);
    }
    expect(await first.services.db('users').count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
    await first.stop();

    // Second life: relay and projections resume from their checkpoints and catch up.
    const second = await startTestSystem({ databaseUrl, roles: { api: false } });
    try {
      await waitFor(async () => (await second.services.db('users').whereIn('id', ids)).length === ids.length);
      expect(await second.services.db('users').count<{ count: string }[]>('* as count')).toEqual([{ count: String(ids.length) }]);
    } finally {
      await second.stop();
    }
  });

  it('a relay that published but did not checkpoint republishes, and the projection ignores the duplicates', async () => {
    const databaseUrl = await createTestDatabase('redeliver');
    const system = await startTestSystem({ databaseUrl, roles: { api: false } });
    try {
      const name = `dup_${randomUUID().slice(0, 6)}`;
      const { userId } = await registerUser(
        { store: system.services.store, now: () => new Date(), newId: randomUUID, metadata: {} },
        cheapHasher,
        { username: name, email: `${name}@x.io`, password: 'SecurePass123', fullName: 'Original' },
      );
      await waitFor(async () => (await system.services.db('users').where({ id: userId })).length === 1);
      // Forget the relay checkpoint: everything is published a second time.
      await system.services.db('relay_checkpoints').delete();
      await system.services.db('users').where({ id: userId }).update({ full_name: 'Changed by hand' });
      await waitFor(async () => (await system.services.db('relay_checkpoints')).length === 1);
      // A later event of the same stream travels behind the duplicates (same key, same partition):
      // once it is applied, the duplicates were handled.
      await logInUser(
        { store: system.services.store, now: () => new Date(), newId: randomUUID, metadata: {} },
        cheapHasher,
        { username: name },
        'SecurePass123',
      );
      await waitFor(async () => (await system.services.db('users').where({ id: userId }).whereNotNull('last_login')).length === 1);
      const [row] = await system.services.db('users').where({ id: userId });
      // The redelivered UserRegistered was skipped by revision, so it did not overwrite the row.
      expect(row.full_name).toBe('Changed by hand');
      expect(await system.services.db('users').count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
    } finally {
      await system.stop();
    }
  });
});
