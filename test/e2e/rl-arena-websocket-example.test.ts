/**
 * The RL-Arena document's own WebSocket example, run unchanged (only the host and the token
 * replaced) against a fresh `arena start` of the built app: a user who copies it sees the
 * documented messages (build_status, match_created, match_completed) of their agents.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectSandboxEngine, describeSandboxEngine } from '../../src/infrastructure/sandbox/sandbox-engine';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { describeWithEngine } from '../support/engines';
import { freePort } from '../support/free-port';
import { http } from '../support/test-system';
import { exampleAgentZip, upload, waitFor } from './arena-support';

/** Verbatim from the RL-Arena API document, "WebSocket API" -> "Connect to WebSocket" -> "Example". */
const DOCUMENT_EXAMPLE = `const ws = new WebSocket('ws://localhost:8080/api/v1/ws?token=YOUR_JWT_TOKEN');

ws.onmessage = (event) => {
  const data = JSON.parse(event.data);
  console.log('Received:', data);
};
`;

/** Node 20 has the browser's WebSocket global behind a flag (Node 22 has it by default). */
const NODE_WEBSOCKET_FLAG = ['--experimental-websocket'];
const browserStyleWebSocket = spawnSync(process.execPath, [...NODE_WEBSOCKET_FLAG, '-e', 'process.exit(typeof WebSocket === "function" ? 0 : 1)']).status === 0;
if (!browserStyleWebSocket) process.stdout.write(`SKIPPED: this Node (${process.version}) has no global WebSocket, which the document's example uses\n`);

const engine = detectSandboxEngine();
const describeExample = browserStyleWebSocket
  ? describeWithEngine('sandbox', engine.kind === 'bubblewrap', `bubblewrap not available (run deploy/sandbox/install.sh): ${describeSandboxEngine(engine)}`)
  : describe.skip;

describeExample("the RL-Arena document's WebSocket example, run unchanged", () => {
  let app: CliProcess | undefined;
  let example: ChildProcess | undefined;
  let baseUrl = '';

  beforeAll(async () => {
    ensureBuilt();
    const dataDir = mkdtempSync(join(tmpdir(), 'arena-ws-example-'));
    chmodSync(dataDir, 0o755); // the sandboxed agent uid must reach the builds under it
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    app = runCli(['start'], {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      // Short matches and no matchmaker rounds: the test's own match is the one to watch.
      ARENA_PONG_TARGET_SCORE: '2',
      ARENA_MATCH_COOLDOWN_SEC: '0',
      ARENA_MATCHMAKER_INTERVAL_SEC: '3600',
    });
    await waitForReady(baseUrl, app);
  }, 120_000);
  afterAll(async () => {
    example?.kill('SIGTERM');
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });

  it('prints the build_status, match_created and match_completed messages of the user’s agents', async () => {
    const register = async (username: string) => {
      const res = await http(baseUrl, 'POST', '/api/v1/auth/register', { body: { username, email: `${username}@example.com`, password: 'securepassword123' } });
      expect(res.status).toBe(201);
      return { token: String(res.body.token), id: String((res.body.user as { id: string }).id) };
    };
    const me = await register('myusername');
    const rival = await register('rivaluser');

    // Only the host and the credentials replaced.
    const script = DOCUMENT_EXAMPLE.replace('ws://localhost:8080', baseUrl.replace('http', 'ws')).replace('YOUR_JWT_TOKEN', me.token);
    expect(script.replace(baseUrl.replace('http', 'ws'), 'ws://localhost:8080').replace(me.token, 'YOUR_JWT_TOKEN')).toBe(DOCUMENT_EXAMPLE);
    const scriptPath = join(mkdtempSync(join(tmpdir(), 'ws-example-')), 'example.js');
    writeFileSync(scriptPath, script);
    let printed = '';
    example = spawn(process.execPath, [...NODE_WEBSOCKET_FLAG, '--no-warnings', scriptPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    example.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    example.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    await new Promise((r) => setTimeout(r, 1500)); // the example prints nothing until a message comes

    const createAgent = async (token: string, name: string) => {
      const res = await http(baseUrl, 'POST', '/api/v1/agents', { token, body: { name, environment_id: 'pong', description: 'A reinforcement learning agent for Pong' } });
      expect(res.status).toBe(201);
      return String(res.body.id);
    };
    const myAgent = await createAgent(me.token, 'SmartPongAgent');
    const rivalAgent = await createAgent(rival.token, 'RivalAgent');
    const mySubmission = await upload(baseUrl, me.token, { agentId: myAgent, zip: exampleAgentZip('tracking_agent') });
    const rivalSubmission = await upload(baseUrl, rival.token, { agentId: rivalAgent, zip: exampleAgentZip('random_agent') });
    expect([mySubmission.status, rivalSubmission.status]).toEqual([201, 201]);
    for (const agentId of [myAgent, rivalAgent]) {
      await waitFor(baseUrl, `/api/v1/agents/${agentId}`, (b) => b.active_submission_id !== null, 120_000);
    }

    const created = await http(baseUrl, 'POST', '/api/v1/matches', { token: me.token, body: { agent_1_id: myAgent, agent_2_id: rivalAgent, environment_id: 'pong' } });
    expect(created.status).toBe(201);
    const matchId = String(created.body.id);
    await waitFor(baseUrl, `/api/v1/matches/${matchId}`, (b) => b.status === 'completed', 120_000);
    const deadline = Date.now() + 30_000;
    while (!printed.includes("type: 'match_completed'") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    // What the user sees: Node prints each `data` object after "Received:".
    const received = printed.split('Received: ').slice(1);
    const ofType = (type: string) => received.filter((message) => message.includes(`type: '${type}'`));
    expect(ofType('build_status').some((m) => m.includes(`submission_id: '${String(mySubmission.body.id)}'`) && m.includes("status: 'success'"))).toBe(true);
    expect(ofType('match_created').some((m) => m.includes(`match_id: '${matchId}'`) && m.includes(`agent_1_id: '${myAgent}'`))).toBe(true);
    const completed = ofType('match_completed').find((m) => m.includes(`match_id: '${matchId}'`));
    expect(completed).toBeDefined();
    expect(completed).toContain(`winner_id: '${myAgent}'`);
    expect(completed).toMatch(new RegExp(`elo_changes: \\{\\s*'${myAgent}': \\d+,\\s*'${rivalAgent}': -\\d+`));
    // Only this user's events: the rival's build is not theirs to see.
    expect(printed).not.toContain(String(rivalSubmission.body.id));
    expect(printed).not.toMatch(/Error|error/);
  }, 300_000);
});
