import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { freePort } from '../support/free-port';
import { http } from '../support/test-system';

jest.setTimeout(300_000);

/**
 * Issue 8, "Done when": `arena start` killed with SIGKILL in the middle of a hostile-input run
 * (malformed, oversized, NUL-laden and unauthenticated requests interleaved with real writes)
 * loses no write it acknowledged: after a restart every acknowledged registration signs in,
 * every acknowledged agent is there, and every acknowledged refresh rotation still holds.
 */
describe('SIGKILL during a hostile-input run', () => {
  let env: Record<string, string>;
  let baseUrl: string;
  let running: CliProcess | undefined;

  beforeAll(async () => {
    ensureBuilt();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-hostile-kill-')),
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
    };
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
  });

  const start = async () => {
    running = runCli(['start'], env);
    await waitForReady(baseUrl, running);
    return running;
  };
  const send = (method: string, path: string, body: string | undefined, token?: string) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    })
      .then(async (r) => ({ status: r.status, text: await r.text() }))
      .catch(() => ({ status: 0, text: '' }));

  it('keeps every acknowledged write', async () => {
    const victim = await start();
    const owner = await http(baseUrl, 'POST', '/api/v1/auth/register', {
      body: { username: 'kill_owner', email: 'kill_owner@example.com', password: 'SecurePass123' },
    });
    expect(owner.status).toBe(201);
    const token = String(owner.body.access_token);

    const hostile = [
      () => send('POST', '/api/v1/agents', '{"name":', token),
      () => send('POST', '/api/v1/agents', JSON.stringify({ name: 'a\u0000b', environment_id: 'pong' }), token),
      () => send('POST', '/api/v1/auth/register', JSON.stringify({ username: 'x', email: 'y', password: 'z', full_name: '\ud800' })),
      () => send('GET', '/api/v1/training/jobs/00000000-0000-4000-8000-000000000000/metrics?attempt=2147483648', undefined, token),
      () => send('POST', '/api/v1/telemetry/sessions', '['.repeat(20_000) + ']'.repeat(20_000), token),
      () => send('POST', '/api/v1/agents', JSON.stringify({ name: 'n', environment_id: 'pong' }), 'not-a-token'),
    ];
    let acknowledged = 0;
    const count = <T extends { status: number }>(result: T): T => {
      if (result.status === 201) acknowledged += 1;
      return result;
    };
    const registrations: Promise<{ status: number; username: string }>[] = [];
    const agents: Promise<{ status: number; id: string | null }>[] = [];
    const hostileResults: Promise<{ status: number }>[] = [];
    for (let i = 0; i < 30; i += 1) {
      for (const attack of hostile) hostileResults.push(attack());
      const username = `kill_${i}`;
      registrations.push(
        send('POST', '/api/v1/auth/register', JSON.stringify({ username, email: `${username}@example.com`, password: 'SecurePass123' })).then((r) => ({
          status: r.status,
          username,
        })).then(count),
      );
      agents.push(
        send('POST', '/api/v1/agents', JSON.stringify({ name: `Kill Agent ${i}`, environment_id: 'pong' }), token).then((r) => ({
          status: r.status,
          id: r.status === 201 ? String((JSON.parse(r.text) as { id: string }).id) : null,
        })).then(count),
      );
    }
    // Kill once a few writes were acknowledged; the rest are mid-flight.
    const allSettled = Promise.all([...registrations, ...agents]);
    let settled = false;
    void allSettled.then(() => (settled = true));
    while (acknowledged < 5 && !settled) await new Promise((resolve) => setTimeout(resolve, 20));
    victim.child.kill('SIGKILL');
    await victim.exited;

    // Nothing hostile got anything but a 4xx (or was cut off by the kill).
    for (const result of await Promise.all(hostileResults)) expect(result.status === 0 || (result.status >= 400 && result.status < 500)).toBe(true);
    const acknowledgedUsers = (await Promise.all(registrations)).filter((r) => r.status === 201);
    const acknowledgedAgents = (await Promise.all(agents)).filter((r) => r.status === 201);
    const statuses = [...(await Promise.all(registrations)), ...(await Promise.all(agents))].map((r) => r.status);
    expect({ acknowledged: acknowledgedUsers.length + acknowledgedAgents.length > 0, statuses }).toMatchObject({ acknowledged: true });

    await start();
    for (const { username } of acknowledgedUsers) {
      const login = await http(baseUrl, 'POST', '/api/v1/auth/login', { body: { username, password: 'SecurePass123' } });
      expect({ username, status: login.status }).toEqual({ username, status: 200 });
    }
    for (const { id } of acknowledgedAgents) {
      const agent = await http(baseUrl, 'GET', `/api/v1/agents/${String(id)}`);
      expect({ id, status: agent.status }).toEqual({ id, status: 200 });
    }
    // The session started before the kill is still valid after it (sessions are events).
    expect((await http(baseUrl, 'GET', '/api/v1/auth/me', { token })).status).toBe(200);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
  });
});
