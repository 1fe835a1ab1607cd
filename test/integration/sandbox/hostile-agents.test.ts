import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { runMatch, type MatchAgent, type MatchLimitsInput } from '../../../src/workers/matches/match-runner';
import { describeSandbox, engine, fixtureAgent, fixtureCopy, leftoverProcesses, removeScratchDirs, scratchDir, testUidPool, trackingAgent } from './sandbox-test-support';

/** The example tracker (agent_1) against a hostile agent (agent_2). */
function playAgainst(hostile: MatchAgent, limits: MatchLimitsInput = {}, targetScore = 2) {
  return runMatch({ environmentId: 'pong', environmentOptions: { targetScore }, seed: 3, agents: [trackingAgent, hostile], limits, engine, uidPool: testUidPool });
}

describeSandbox('hostile agents are contained and forfeit', () => {
  afterEach(async () => {
    // The host is fine: nothing the agent started outlives its match.
    expect(await leftoverProcesses()).toEqual([]);
    removeScratchDirs();
  });

  it('an agent that loops forever times out at the step deadline', async () => {
    const startedAt = Date.now();
    const result = await playAgainst(fixtureAgent('infinite_loop'), { stepDeadlineMs: 300 });
    expect(result.forfeit).toMatchObject({ agent: 'agent_2', reason: 'timeout', step: 0 });
    expect(result.forfeit?.detail).toMatch(/no answer within 300 ms \(step 0\)/);
    expect(result.winner).toBe('agent_1');
    expect(result.status).toBe('completed');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('the CPU-time limit stops a busy loop when the step deadline is generous', async () => {
    const result = await playAgainst(fixtureAgent('infinite_loop'), { stepDeadlineMs: 20_000, cpuSeconds: 1 });
    expect(result.forfeit).toMatchObject({ agent: 'agent_2', reason: 'timeout' });
    expect(result.forfeit?.detail).toMatch(/CPU-time limit of 1 s exceeded/);
  });

  it('a fork bomb hits the process limit, and its children die with the match', async () => {
    const result = await playAgainst(fixtureAgent('fork_bomb'), { maxProcesses: 12 });
    const report = /FORK_BOMB children=(\d+) then (.*)/.exec(result.agentLogs[1]);
    expect(report).not.toBeNull();
    expect(Number(report![1])).toBeLessThan(12);
    expect(report![2]).toMatch(/BlockingIOError|Resource temporarily unavailable/);
    // Contained: the bomb's agent kept playing and the match ended normally.
    expect(result.forfeits).toEqual([]);
    expect(result.scores[0]).toBe(2);
  });

  it('an agent that allocates 10 GB hits the memory limit and forfeits as crashed', async () => {
    const result = await playAgainst(fixtureAgent('memory_hog'), { memoryBytes: 512 * 1024 * 1024 });
    expect(result.forfeit).toMatchObject({ agent: 'agent_2', reason: 'crashed', step: 0 });
    expect(result.forfeit?.detail).toMatch(/MemoryError/);
    expect(result.agentLogs[1]).toContain('MEMORY_HOG allocating 10737418240 bytes');
  });

  it('an agent cannot open a connection to the host', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      const agent = fixtureCopy('network_probe', { 'target.json': JSON.stringify({ port: address.port }) });
      const result = await playAgainst(agent, {}, 1);
      expect(result.agentLogs[1]).toMatch(/NETWORK connect failed: (ConnectionRefusedError|OSError|TimeoutError)/);
      expect(result.agentLogs[1]).not.toContain('NETWORK connected');
      expect(connections).toBe(0);
      expect(result.forfeits).toEqual([]);
    } finally {
      await new Promise((closed) => server.close(closed));
    }
  });

  it('an agent cannot write outside its sandbox nor read host files', async () => {
    const token = randomUUID();
    const hostTmpTarget = `/tmp/escape-${token}`;
    const outside = scratchDir();
    const secret = join(outside, 'secret.txt');
    writeFileSync(secret, `secret-${token}`, { mode: 0o644 });
    const agent = fixtureCopy('escape_writer', { 'targets.json': JSON.stringify({ paths: [hostTmpTarget, join(outside, `escape-${token}`)], read: secret }) });
    const result = await playAgainst(agent, {}, 1);
    // Not even a world-readable host file is visible inside the sandbox.
    expect(result.agentLogs[1]).toContain(`READ failed ${secret}: FileNotFoundError`);
    expect(result.agentLogs[1]).not.toContain(`secret-${token}`);
    expect(result.agentLogs[1]).toMatch(/ESCAPE failed .*escape-own-dir: OSError|ESCAPE failed .*escape-own-dir/);
    expect(existsSync(hostTmpTarget)).toBe(false); // it wrote to its private /tmp, which is gone
    expect(existsSync(join(outside, `escape-${token}`))).toBe(false);
    expect(existsSync(join(agent.dir, 'escape-own-dir'))).toBe(false);
    expect(existsSync(join(agent.dir, '..', 'escape-parent-dir'))).toBe(false);
    expect(result.forfeits).toEqual([]);
  });

  it('the file-size limit stops an agent from writing a huge file', async () => {
    const result = await playAgainst(fixtureAgent('big_file_writer'), { maxFileBytes: 4 * 1024 * 1024 }, 1);
    expect(result.agentLogs[1]).toMatch(/BIG_FILE stopped at 4194304 bytes: .*File too large/);
    expect(result.forfeits).toEqual([]);
  });

  it('garbage written into the protocol pipe is a protocol error', async () => {
    const result = await playAgainst(fixtureAgent('garbage_output'));
    expect(result.forfeit).toMatchObject({ agent: 'agent_2', reason: 'protocol_error', step: 0 });
    expect(result.forfeit?.detail).toMatch(/not JSON: "this is not json"/);
  });

  it('printing does not corrupt the protocol, but too much output forfeits', async () => {
    const result = await playAgainst(fixtureAgent('noisy_printer'), { maxStderrBytes: 1024 * 1024 });
    expect(result.forfeit).toMatchObject({ agent: 'agent_2', reason: 'output_limit' });
    expect(result.forfeit?.detail).toMatch(/more than 1048576 bytes to stderr/);
    expect(result.forfeit!.step).toBeGreaterThan(5); // the prints before the limit did no harm
  });

  it('an action outside the action space forfeits as invalid_action', async () => {
    const result = await playAgainst(fixtureAgent('invalid_action'));
    expect(result.forfeit).toMatchObject({ agent: 'agent_2', reason: 'invalid_action', step: 0 });
    expect(result.forfeit?.detail).toMatch(/action 7 is not in the action space/);
  });

  it('an agent.py that does not load forfeits as crashed before the first step', async () => {
    const agent = fixtureCopy('invalid_action', { 'agent.py': 'class Agent(:\n' });
    const result = await playAgainst(agent);
    expect(result.forfeit).toMatchObject({ agent: 'agent_2', reason: 'crashed', step: -1 });
    expect(result.forfeit?.detail).toMatch(/init: SyntaxError/);
    expect(result.totalSteps).toBe(0);
  });

  it('two agents failing at the same step is a draw with both forfeits recorded', async () => {
    const result = await runMatch({
      environmentId: 'pong',
      seed: 1,
      agents: [fixtureAgent('infinite_loop'), fixtureAgent('invalid_action')],
      limits: { stepDeadlineMs: 300 },
      engine,
      uidPool: testUidPool,
    });
    expect(result.winner).toBe('draw');
    expect(result.forfeit).toBeUndefined();
    expect(result.forfeits.map((forfeit) => [forfeit.agent, forfeit.reason])).toEqual([
      ['agent_1', 'timeout'],
      ['agent_2', 'invalid_action'],
    ]);
  });

  it('the chess clock charges each agent its own time: a slow first agent does not use up the fast second one', async () => {
    // Both answers of a step are awaited together; the fast agent's answer is in long before the
    // slow one's and must be timed when it came, not when the slow one's was taken.
    const result = await runMatch({
      environmentId: 'pong',
      environmentOptions: { targetScore: 1000 },
      seed: 1,
      agents: [fixtureAgent('slow_thinker'), trackingAgent],
      limits: { matchDeadlineMs: 1_500 },
      engine,
      uidPool: testUidPool,
    });
    expect(result.forfeit).toMatchObject({ agent: 'agent_1', reason: 'match_timeout' });
    const used = /this agent used (\d+) ms, its opponent (\d+) ms/.exec(result.forfeit!.detail);
    expect(used).not.toBeNull();
    const [slow, fast] = [Number(used![1]), Number(used![2])];
    expect(slow).toBeGreaterThanOrEqual(20 * (result.totalSteps - 1));
    expect(fast).toBeLessThan(slow / 4);
  });

  it('the match deadline ends a match that runs too long; the slower agent forfeits', async () => {
    const result = await runMatch({
      environmentId: 'pong',
      seed: 1,
      agents: [trackingAgent, trackingAgent],
      limits: { matchDeadlineMs: 300 },
      engine,
      uidPool: testUidPool,
    });
    expect(result.forfeit?.reason).toBe('match_timeout');
    expect(result.totalSteps).toBeGreaterThan(0);
  });
});
