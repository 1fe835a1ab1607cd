/**
 * The RL-Arena end to end: two users upload two different working agents, both build (real
 * virtualenvs, sandboxed import check), a manual match and a matchmaker match run in the sandbox,
 * the replays open in headless Chromium, ratings and the leaderboard change, WebSocket clients
 * get build_status / match_created / match_completed, and rebuilding the leaderboards from the
 * event history gives the same rows and ranks.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { projectionsForReplay } from '../../src/runtime/app-container';
import { rebuildProjection } from '../../src/projections/postgres/projection-rebuild';
import { arenaLeaderboardProjectionNames } from '../../src/projections/postgres/arena/arena-projections';
import { detectSandboxEngine, describeSandboxEngine } from '../../src/infrastructure/sandbox/sandbox-engine';
import { runMatchmakingRound } from '../../src/workers/matches/matchmaker';
import { encodeEnvelope, topicForStream } from '../../src/infrastructure/bus/event-envelope';
import { describeWithEngine } from '../support/engines';
import { http } from '../support/test-system';
import { connectWebSocket, type WebSocketTestClient } from '../support/ws-client';
import { createAgent, exampleAgentZip, registerUser, startArenaSystem, upload, waitFor, type ArenaTestSystem } from './arena-support';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const engine = detectSandboxEngine();
const describeArena = describeWithEngine('sandbox', engine.kind === 'bubblewrap', `bubblewrap not available (run deploy/sandbox/install.sh): ${describeSandboxEngine(engine)}`);
const describeBrowser = describeWithEngine('chromium', existsSync(CHROMIUM), 'chromium not installed (run deploy/browser/install.sh)');

interface Player {
  id: string;
  token: string;
  username: string;
  agentId: string;
  submissionId: string;
  ws: WebSocketTestClient;
}

let system: ArenaTestSystem;
let alice: Player;
let bob: Player;
const matchIds: string[] = [];

const leaderboardSnapshot = async () => {
  const db = system.services.db;
  return {
    agents: await db('agents').select('*').orderBy('id'),
    ratings: await db('arena_match_ratings').select('*').orderBy('match_id'),
    board: (await http(system.url, 'GET', '/api/v1/leaderboard/environment/pong')).body,
  };
};

describeArena('RL-Arena end to end', () => {
  beforeAll(async () => {
    system = await startArenaSystem({
      workers: ['builds', 'matches', 'elo'],
      env: { ARENA_PONG_TARGET_SCORE: '2', ARENA_MATCH_COOLDOWN_SEC: '0', ARENA_MATCHES_PER_AGENT_PER_DAY: '10', ARENA_ELO_K: '32' },
    });
  }, 60_000);
  afterAll(async () => {
    for (const player of [alice, bob]) player?.ws.ws.close();
    await system?.stop();
  });

  it('two users create agents and upload two different agents; both build and become active', async () => {
    const join = async (prefix: string, agentName: string, example: 'tracking_agent' | 'random_agent'): Promise<Player> => {
      const user = await registerUser(system.url, prefix);
      const ws = await connectWebSocket(`${system.url.replace('http', 'ws')}/api/v1/ws?token=${user.token}`);
      const agentId = await createAgent(system.url, user.token, agentName);
      const res = await upload(system.url, user.token, { agentId, zip: exampleAgentZip(example) });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ agent_id: agentId, version: '1.0.1', status: 'queued' });
      expect(String(res.body.code_path)).toMatch(/^\/storage\/artifacts\/sha256\/[0-9a-f]{64}\.zip$/);
      return { ...user, agentId, submissionId: String(res.body.id), ws };
    };
    [alice, bob] = await Promise.all([join('alice', 'Tracker', 'tracking_agent'), join('bob', 'Randy', 'random_agent')]);

    for (const player of [alice, bob]) {
      const submission = await waitFor(system.url, `/api/v1/submissions/${player.submissionId}`, (b) => b.status === 'success' || b.status === 'failed');
      const logs = await http(system.url, 'GET', `/api/v1/submissions/${player.submissionId}/build-logs`);
      expect({ status: submission.status, logs: logs.body.logs }).toMatchObject({ status: 'success' });
      expect(submission.docker_image).toBe(`venv:builds/${player.submissionId}/venv`);
      expect(submission.build_started_at).not.toBeNull();
      expect(submission.build_completed_at).not.toBeNull();
      expect(String(logs.body.logs)).toContain('create the virtualenv');
      expect(String(logs.body.logs)).toContain('ok: the agent is ready to play');

      const status = await http(system.url, 'GET', `/api/v1/submissions/${player.submissionId}/build-status`);
      expect(status.body).toMatchObject({ submission_id: player.submissionId, status: 'success', phase: 'Succeeded', docker_image: submission.docker_image });

      // The agent switches to the built submission (the build worker reacts to BuildSucceeded).
      await waitFor(system.url, `/api/v1/agents/${player.agentId}`, (b) => b.active_submission_id === player.submissionId);
      const list = await http(system.url, 'GET', `/api/v1/submissions/agent/${player.agentId}`);
      expect(list.body).toMatchObject({ total: 1, submissions: [{ id: player.submissionId, version: '1.0.1', status: 'success', is_active: true }] });

      // The owner's socket saw the build go queued -> building -> success.
      const success = await player.ws.next((m) => m.type === 'build_status' && m.status === 'success');
      expect(success).toMatchObject({ submission_id: player.submissionId, docker_image: submission.docker_image });
      expect(player.ws.messages.filter((m) => m.type === 'build_status').map((m) => m.status)).toEqual(expect.arrayContaining(['building', 'success']));
    }
    // Nobody hears about someone else's builds.
    expect(alice.ws.messages.some((m) => m.submission_id === bob.submissionId)).toBe(false);
  });

  it('a manual match runs in the sandbox; the winner gains rating, the loser loses it; both owners are told', async () => {
    const created = await http(system.url, 'POST', '/api/v1/matches', {
      token: alice.token,
      body: { agent_1_id: alice.agentId, agent_2_id: bob.agentId, environment_id: 'pong' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ environment_id: 'pong', submission_1_id: alice.submissionId, submission_2_id: bob.submissionId, status: 'queued' });
    const matchId = String(created.body.id);
    matchIds.push(matchId);
    for (const player of [alice, bob]) {
      expect(await player.ws.next((m) => m.type === 'match_created' && m.match_id === matchId)).toMatchObject({ agent_1_id: alice.agentId, agent_2_id: bob.agentId });
    }

    const match = await waitFor(system.url, `/api/v1/matches/${matchId}`, (b) => b.status === 'completed' || b.status === 'failed', 60_000);
    expect(match).toMatchObject({
      status: 'completed',
      winner_id: alice.agentId, // the tracker beats the random agent
      score_1: 2,
      agent_1: { id: alice.agentId, name: 'Tracker', username: alice.username },
      agent_2: { id: bob.agentId, name: 'Randy', username: bob.username },
      replay_json_url: `/storage/replays/${matchId}.json`,
      replay_html_url: `/storage/replays/${matchId}.html`,
    });
    expect(Number(match.total_steps)).toBeGreaterThan(0);
    expect(Number(match.execution_time_sec)).toBeGreaterThan(0);

    for (const player of [alice, bob]) {
      const completed = await player.ws.next((m) => m.type === 'match_completed' && m.match_id === matchId);
      expect(completed).toMatchObject({ winner_id: alice.agentId });
      const changes = completed.elo_changes as Record<string, number>;
      expect(changes[alice.agentId]).toBeGreaterThan(0);
      expect(changes[bob.agentId]).toBe(-changes[alice.agentId]!);
    }

    const winner = await waitFor(system.url, `/api/v1/agents/${alice.agentId}`, (b) => b.total_matches === 1);
    const loser = await waitFor(system.url, `/api/v1/agents/${bob.agentId}`, (b) => b.total_matches === 1);
    expect(winner).toMatchObject({ wins: 1, losses: 0, elo_rating: 1216 });
    expect(loser).toMatchObject({ wins: 0, losses: 1, elo_rating: 1184 });

    const history = await http(system.url, 'GET', `/api/v1/matches/agent/${bob.agentId}`);
    expect(history.body).toMatchObject({ total: 1, matches: [{ id: matchId, opponent_id: alice.agentId, opponent_name: 'Tracker', result: 'loss', elo_change: -16 }] });
    expect(String((history.body.matches as { score: string }[])[0]!.score)).toMatch(/^\d+-2$/);
  });

  it('serves the replay as JSON in the contract shape, by static URL and through /replay', async () => {
    const matchId = matchIds[0]!;
    const byRoute = await fetch(`${system.url}/api/v1/matches/${matchId}/replay?format=json`);
    expect(byRoute.headers.get('content-type')).toContain('application/json');
    const replay = (await byRoute.json()) as Record<string, unknown>;
    expect(replay).toMatchObject({ match_id: matchId, environment: 'pong', winner: 'agent_1' });
    const frames = replay.frames as Record<string, unknown>[];
    expect(frames).toHaveLength(Number(replay.total_steps));
    expect(Object.keys(frames[0]!)).toEqual(expect.arrayContaining(['step', 'observation', 'action_1', 'action_2', 'reward_1', 'reward_2']));
    const byStatic = await fetch(`${system.url}/storage/replays/${matchId}.json`);
    expect(byStatic.status).toBe(200);
    expect(await byStatic.json()).toEqual(replay);

    const urls = await http(system.url, 'GET', `/api/v1/matches/${matchId}/replay-url`);
    expect(urls.body).toEqual({
      match_id: matchId,
      replay_json_url: `${system.url}/storage/replays/${matchId}.json`,
      replay_html_url: `${system.url}/storage/replays/${matchId}.html`,
    });
    const html = await fetch(`${system.url}/api/v1/matches/${matchId}/replay?format=html`);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('<canvas');
  });

  describeBrowser('in headless Chromium', () => {
    it('the HTML replay page plays to its end, with no request leaving the server', async () => {
      const matchId = matchIds[0]!;
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage();
        const requests: string[] = [];
        const errors: string[] = [];
        page.on('request', (request) => requests.push(request.url()));
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`${system.url}/storage/replays/${matchId}.html#speed=50`);
        await page.waitForFunction(() => (globalThis as unknown as { __replayDone?: boolean }).__replayDone === true, undefined, { timeout: 30_000 });
        expect(await page.title()).toContain(matchId);
        expect(await page.textContent('#status')).toContain(`Winner: ${alice.agentId}`);
        expect(errors).toEqual([]);
        expect(requests.every((url) => url.startsWith(system.url))).toBe(true);
        const screenshot = await page.screenshot();
        expect(screenshot.length).toBeGreaterThan(1000);
      } finally {
        await browser.close();
      }
    }, 60_000);
  });

  it('the matchmaker pairs the two agents (similar rating, other owners); the match is played and rated', async () => {
    const requested = await runMatchmakingRound(system.services);
    expect(requested).toHaveLength(1);
    const matchId = requested[0]!;
    matchIds.push(matchId);
    // Both agents now have a queued match: the next round pairs nobody.
    expect(await runMatchmakingRound(system.services)).toEqual([]);
    const match = await waitFor(system.url, `/api/v1/matches/${matchId}`, (b) => b.status === 'completed' || b.status === 'failed', 60_000);
    expect(match.status).toBe('completed');
    await waitFor(system.url, `/api/v1/agents/${alice.agentId}`, (b) => b.total_matches === 2);
    await waitFor(system.url, `/api/v1/agents/${bob.agentId}`, (b) => b.total_matches === 2);
    await alice.ws.next((m) => m.type === 'match_completed' && m.match_id === matchId);

    const stats = await http(system.url, 'GET', `/api/v1/agents/${bob.agentId}/stats`);
    expect(stats.body).toMatchObject({
      agent_id: bob.agentId,
      total_matches: 2,
      // Today's matches against the agent's own quota: the matchmade one. Alice's challenge was
      // received, and received challenges have their own budget (docs/arena.md).
      matches_today: 1,
      can_match: true,
      next_match_available_at: null,
      opponent_stats: [{ opponent_id: alice.agentId, opponent_name: 'Tracker', matches_played: 2 }],
    });
    const board = await http(system.url, 'GET', '/api/v1/leaderboard?environment=pong');
    const entries = board.body.leaderboard as Record<string, unknown>[];
    expect(board.body.total).toBe(2);
    expect(entries.map((e) => e.rank)).toEqual([1, 2]);
    expect(entries[0]).toMatchObject({ agent_id: alice.agentId, agent_name: 'Tracker', username: alice.username });
    expect(Number(entries[0]!.elo_rating)).toBeGreaterThan(1200);
    expect(Number(entries[1]!.elo_rating)).toBeLessThan(1200);
    expect(Number(entries[0]!.elo_rating) + Number(entries[1]!.elo_rating)).toBe(2400);
    expect(board.body.updated_at).not.toBeNull();
    const users = await http(system.url, 'GET', '/api/v1/users/me', { token: alice.token });
    expect(users.body.stats).toMatchObject({ total_agents: 1, total_matches: 2 });
  });

  it('redelivered bus messages do no work twice (builds, activation, matches, ratings)', async () => {
    const { store, bus, config } = system.services;
    const streams = [`submission-${alice.submissionId}`, `agent-${alice.agentId}`, `match-${matchIds[0]}`, 'ladder-pong'];
    const lengths = async () => Promise.all(streams.map(async (id) => (await store.readStream(id)).length));
    const before = await lengths();
    const again = async (streamId: string, types: string[]) => {
      const events = (await store.readStream(streamId)).filter((e) => types.includes(e.type));
      expect(events.length).toBeGreaterThan(0);
      await bus.publish(topicForStream(config.TOPIC_PREFIX, streamId), events.map((e) => ({ key: e.streamId, value: encodeEnvelope(e) })));
    };
    await again(`submission-${alice.submissionId}`, ['SubmissionReceived', 'BuildSucceeded']);
    await again(`match-${matchIds[0]}`, ['MatchRequested', 'MatchCompleted']);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await lengths()).toEqual(before);
  });

  it('`arena replay leaderboards` rebuilds ratings and ranks identical to the live ones', async () => {
    const live = await leaderboardSnapshot();
    expect(live.ratings).toHaveLength(2);
    const group = projectionsForReplay('leaderboards').filter((p) => arenaLeaderboardProjectionNames.includes(p.name));
    expect(group.map((p) => p.name).sort()).toEqual([...arenaLeaderboardProjectionNames].sort());
    for (const projection of group) {
      const result = await rebuildProjection(system.services.db, system.services.store, projection, { logger: system.services.logger });
      expect(result.eventsApplied).toBeGreaterThan(0);
    }
    expect(await leaderboardSnapshot()).toEqual(live);
  });
});
