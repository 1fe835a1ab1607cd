/** Shared setup of the arena e2e suites: a system with arena workers, users, agents, uploads. */
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UidPool } from '../../src/infrastructure/sandbox/uid-pool';
import type { RunningRole } from '../../src/runtime/background-roles';
import { startBuildWorker } from '../../src/workers/builds/build-worker';
import { startEloWorker } from '../../src/workers/elo/elo-worker';
import { startMatchWorker } from '../../src/workers/matches/match-worker';
import { buildZip } from '../unit/arena/zip-fixtures';
import { http, startTestSystem, type TestSystem } from '../support/test-system';

export const EXAMPLES_DIR = resolve(__dirname, '..', '..', 'runtime', 'python', 'examples');

/** Uids of these suites' sandboxed agents (the sandbox suites use 310000+). */
export const arenaTestUidPool = new UidPool(320_000, 1_000);

export interface ArenaTestSystem extends TestSystem {
  workers: RunningRole[];
}

/**
 * The whole system plus the chosen arena workers. DATA_DIR is world-traversable, as the sandboxed
 * agent uid must reach the builds under it (docs/arena.md).
 */
export async function startArenaSystem(options: { env?: Record<string, string>; workers?: ('builds' | 'matches' | 'elo')[] } = {}): Promise<ArenaTestSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'arena-e2e-'));
  chmodSync(dataDir, 0o755);
  const system = await startTestSystem({ dataDir, env: options.env });
  const workers: RunningRole[] = [];
  for (const role of options.workers ?? []) {
    if (role === 'builds') workers.push(await startBuildWorker(system.services, { uidPool: arenaTestUidPool }));
    if (role === 'matches') workers.push(await startMatchWorker(system.services, { uidPool: arenaTestUidPool }));
    if (role === 'elo') workers.push(await startEloWorker(system.services));
  }
  return {
    ...system,
    workers,
    async stop() {
      for (const worker of workers.reverse()) await worker.stop();
      await system.stop();
    },
  };
}

export const unique = (): string => Math.random().toString(36).slice(2, 10);

export async function registerUser(url: string, prefix = 'player'): Promise<{ id: string; token: string; username: string }> {
  const username = `${prefix}_${unique()}`;
  const res = await http(url, 'POST', '/api/v1/auth/register', { body: { username, email: `${username}@arena.io`, password: 'SecurePass123' } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: String((res.body.user as { id: string }).id), token: String(res.body.token), username };
}

export async function createAgent(url: string, token: string, name: string, environmentId = 'pong'): Promise<string> {
  const res = await http(url, 'POST', '/api/v1/agents', { token, body: { name, environment_id: environmentId, description: `${name} plays pong` } });
  if (res.status !== 201) throw new Error(`create agent failed: ${res.status} ${JSON.stringify(res.body)}`);
  return String(res.body.id);
}

/** A ZIP of one of runtime/python/examples (in a top-level folder, as zipping a folder makes it). */
export function exampleAgentZip(example: 'tracking_agent' | 'random_agent', requirements = '# no third-party packages\n'): Buffer {
  return buildZip([
    { name: `${example}/agent.py`, content: readFileSync(join(EXAMPLES_DIR, example, 'agent.py')) },
    { name: `${example}/requirements.txt`, content: requirements },
  ]);
}

export function agentZip(agentPy: string, requirements = ''): Buffer {
  return buildZip([
    { name: 'agent.py', content: agentPy },
    { name: 'requirements.txt', content: requirements },
  ]);
}

/** POST /submissions as multipart/form-data (agent_id + code). */
export async function upload(
  url: string,
  token: string | undefined,
  fields: { agentId?: string; zip?: Buffer; fileField?: string },
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const form = new FormData();
  if (fields.agentId !== undefined) form.append('agent_id', fields.agentId);
  if (fields.zip !== undefined) form.append(fields.fileField ?? 'code', new Blob([fields.zip], { type: 'application/zip' }), 'agent.zip');
  const response = await fetch(`${url}/api/v1/submissions`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
}

/** Polls a GET until `done(body)` holds; fails with the last body after `timeoutMs`. */
export async function waitFor(
  url: string,
  path: string,
  done: (body: Record<string, unknown>) => boolean,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    const res = await http(url, 'GET', path);
    last = res.body;
    if (res.status === 200 && done(res.body)) return res.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting on ${path}; last answer: ${JSON.stringify(last).slice(0, 2000)}`);
}
