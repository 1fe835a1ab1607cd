import { randomUUID } from 'node:crypto';
import { rebuildProjection } from '../../src/projections/postgres/projection-rebuild';
import { usersProjection } from '../../src/projections/postgres/identity/users-projection';
import { describeWithEngine } from '../support/engines';
import { http, startTestSystem, type TestSystem } from '../support/test-system';

const brokers = process.env.KAFKA_BROKERS ?? '';

/** The production topology's bus: the same identity flow and replay, with Kafka between relay and projections. */
describeWithEngine('kafka', brokers !== '', 'KAFKA_BROKERS not set')('the system on a real Kafka broker', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem({ env: { KAFKA_BROKERS: brokers, TOPIC_PREFIX: `e2e${randomUUID().slice(0, 8)}.` } });
  }, 90_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('registers, logs in and reads the projected user through Kafka, and replays to the same rows', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `kafka_${i}_${randomUUID().slice(0, 6)}`);
    for (const name of names) {
      const reg = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
      expect(reg.status).toBe(201);
      const me = await http(system.url, 'GET', '/api/v1/auth/me', { token: String(reg.body.token) });
      expect(me.status).toBe(200);
      expect(me.body.username).toBe(name);
    }
    const login = await http(system.url, 'POST', '/api/v1/auth/login', { body: { username: names[0], password: 'SecurePass123' } });
    expect(login.status).toBe(200);
    const ready = await fetch(`${system.url}/readyz`);
    expect(ready.status).toBe(200);

    const live = await system.services.db('users').select('*').orderBy('id');
    expect(live).toHaveLength(5);
    await rebuildProjection(system.services.db, system.services.store, usersProjection, { logger: system.services.logger });
    expect(await system.services.db('users').select('*').orderBy('id')).toEqual(live);
  }, 90_000);
});
