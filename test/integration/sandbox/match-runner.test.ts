import { runMatch } from '../../../src/workers/matches/match-runner';
import { chmodSync } from 'node:fs';
import { describeSandbox, engine, fixtureCopy, leftoverProcesses, randomAgent, removeScratchDirs, testUidPool, trackingAgent } from './sandbox-test-support';

describeSandbox('match runner with two sandboxed example agents', () => {
  afterEach(async () => {
    expect(await leftoverProcesses()).toEqual([]);
    removeScratchDirs();
  });

  const play = (seed: number) =>
    runMatch({
      matchId: `match-test-${seed}`,
      environmentId: 'pong',
      environmentOptions: { targetScore: 3 },
      seed,
      agents: [trackingAgent, randomAgent],
      engine,
      uidPool: testUidPool,
    });

  it('plays pong to the target score and records a well-formed replay', async () => {
    const result = await play(42);
    expect(result.status).toBe('completed');
    expect(result.forfeits).toEqual([]);
    expect(result.forfeit).toBeUndefined();
    expect(result.winner).toBe('agent_1'); // the tracker beats the random agent
    expect(result.scores[0]).toBe(3);
    expect(result.scores[1]).toBeLessThan(3);
    expect(result.sandbox.engine).toBe('bubblewrap');

    const { replay } = result;
    expect(replay).toMatchObject({ match_id: 'match-test-42', environment: 'pong', winner: 'agent_1', total_steps: result.totalSteps, agents: { agent_1: 'tracker', agent_2: 'random' } });
    expect(replay.frames).toHaveLength(result.totalSteps);
    replay.frames.forEach((frame, index) => {
      expect(frame.step).toBe(index);
      expect(frame.observation).toHaveLength(6);
      expect([0, 1, 2]).toContain(frame.action_1);
      expect([0, 1, 2]).toContain(frame.action_2);
    });
    const pointsOf = (reward: 'reward_1' | 'reward_2') => replay.frames.filter((frame) => frame[reward] === 1).length;
    expect([pointsOf('reward_1'), pointsOf('reward_2')]).toEqual(result.scores);
    expect(replay.frames.at(-1)!.state).toMatchObject({ score: result.scores });
    expect(JSON.parse(JSON.stringify(replay))).toEqual(replay);
  });

  it('is reproducible: the same seed gives the same match', async () => {
    const first = await play(7);
    const second = await play(7);
    expect(second.replay.frames).toEqual(first.replay.frames);
  });

  it('refuses (throws) when an agent directory is not readable by the sandbox uid, and still kills the other agent', async () => {
    const unreadable = fixtureCopy('invalid_action', {});
    chmodSync(unreadable.dir, 0o700);
    await expect(runMatch({ environmentId: 'pong', seed: 1, agents: [trackingAgent, unreadable], engine, uidPool: testUidPool })).rejects.toThrow(/must be readable by others/);
  });
});
