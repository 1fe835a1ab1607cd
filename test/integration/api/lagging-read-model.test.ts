import { KafkaMessageBus } from '../../../src/infrastructure/bus/kafka-bus';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { waitForProjection } from '../../../src/projections/postgres/projection-runner';
import { startProjections, startRelay } from '../../../src/runtime/background-roles';
import { freePort } from '../../support/free-port';
import { http, startTestSystem, type TestSystem } from '../../support/test-system';

/**
 * Issue 13: a command's answer never depends on a lagging read model, /readyz says when projections
 * are behind, and a process that does not own the analytics engine answers analytics with 503.
 */
describe('answers and readiness while the read model lags', () => {
  let system: TestSystem;
  beforeAll(async () => {
    // No projections run: every read model stays behind the event store.
    system = await startTestSystem({ roles: { projections: false }, env: { READY_MAX_PROJECTION_LAG: '0' } });
  }, 60_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('answers POST /agents 201 with the created agent (not 404), /readyz 503 until projections catch up, then 200', async () => {
    const reg = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: 'lagging_user', email: 'lag@x.io', password: 'SecurePass123' } });
    expect(reg.status).toBe(201);
    const token = String(reg.body.token);

    const created = await http(system.url, 'POST', '/api/v1/agents', { token, body: { name: 'Unprojected', environment_id: 'pong', description: 'd' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Unprojected', environment_id: 'pong', description: 'd', elo_rating: 1200, total_matches: 0 });
    const agentId = String(created.body.id);
    // The read model really is behind: the answer above did not come from it.
    expect((await http(system.url, 'GET', `/api/v1/agents/${agentId}`)).status).toBe(404);

    const renamed = await http(system.url, 'PUT', `/api/v1/agents/${agentId}`, { token, body: { name: 'Renamed' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: agentId, name: 'Renamed', description: 'd' });

    const lagging = await fetch(`${system.url}/readyz`);
    expect(lagging.status).toBe(503);
    const body = (await lagging.json()) as { details: { failed: string[] } };
    expect(body.details.failed).toContain('projection_lag');

    const projections = await startProjections(system.services);
    try {
      let status = 0;
      for (let i = 0; i < 200 && status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await fetch(`${system.url}/readyz`)).status;
      }
      expect(status).toBe(200);
      const read = await http(system.url, 'GET', `/api/v1/agents/${agentId}`);
      expect(read.status).toBe(200);
      expect(read.body.name).toBe('Renamed');
    } finally {
      await projections.stop();
    }
  }, 60_000);

  it('stops the read-your-writes wait early when the bus is known to be down', async () => {
    // A real Kafka adapter whose broker does not exist: its ping fails, so the wait gives up long
    // before its (deliberately huge) timeout, which would otherwise outlast this test's.
    const bus = new KafkaMessageBus({ brokers: [`127.0.0.1:${await freePort()}`], logger: createLogger({ level: 'silent' }) });
    try {
      const caughtUp = await waitForProjection(system.services.db, 'agents', 'agent-never-projected', 0n, { bus, timeoutMs: 600_000 });
      expect(caughtUp).toBe(false);
    } finally {
      await bus.close();
    }
  }, 30_000);
});

describe('readiness while the relay does not publish', () => {
  let system: TestSystem;
  beforeAll(async () => {
    // No relay runs: appended events never reach the bus, so the topics' ends (and with them the
    // projections' lag) stay where they are. Only the relay check can tell.
    system = await startTestSystem({ roles: { relay: false }, env: { READY_MAX_RELAY_LAG_SEC: '1' } });
  }, 60_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('answers /readyz 503 naming the relay once an unpublished event is older than READY_MAX_RELAY_LAG_SEC, 200 once it is published', async () => {
    expect((await fetch(`${system.url}/readyz`)).status).toBe(200);
    const reg = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: 'unrelayed', email: 'unrelayed@x.io', password: 'SecurePass123' } });
    expect(reg.status).toBe(201); // after its bounded read-your-writes wait (nothing is published)
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const stuck = await fetch(`${system.url}/readyz`);
    expect(stuck.status).toBe(503);
    const body = (await stuck.json()) as { details: { failed: string[]; checks: Record<string, string> } };
    expect(body.details.failed).toEqual(['relay']);
    expect(body.details.checks.projection_lag).toBe('ok');

    const relay = startRelay(system.services);
    try {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await fetch(`${system.url}/readyz`)).status;
      }
      expect(status).toBe(200);
    } finally {
      await relay.stop();
    }
  }, 60_000);
});

describe('a process that does not own the embedded analytics engine', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem({ analytics: false });
  }, 60_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('answers analytics routes 503 with the contract error body, and /readyz says analytics are not served here', async () => {
    const reg = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: 'no_chdb', email: 'nochdb@x.io', password: 'SecurePass123' } });
    const token = String(reg.body.token);
    for (const path of ['/api/v1/analytics/performance/overview', '/api/v1/analytics/consistency']) {
      const response = await http(system.url, 'GET', path, { token });
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ status_code: 503, code: 'SERVICE_UNAVAILABLE', details: { reason: 'analytics_not_served_here' } });
      expect(String(response.body.detail)).toContain('CLICKHOUSE_URL');
    }
    const ready = await fetch(`${system.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.analytics).toBe('not_served_here');
  }, 60_000);
});
