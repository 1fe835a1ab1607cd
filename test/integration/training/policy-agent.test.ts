/**
 * A trained pong policy enters the arena as an ordinary Python agent submission: the generated
 * agent.py, run by the arena's own runner (runtime/python/arena_runner.py), must pick exactly
 * the actions the TypeScript policy picks on real pong observations.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createPong } from '../../../src/domain/arena/environments/pong';
import { trainerJobSpecSchema } from '../../../src/domain/training/trainer-protocol';
import { loadPolicy } from '../../../src/ml/policy-artifact';
import { POLICY_AGENT_FILE_NAMES, policyAgentFiles } from '../../../src/ml/policy-agent';
import { runTrainingJob } from '../../../src/ml/run-training-job';
import { REPOSITORY_ROOT } from './child-process-support';

it('the generated arena agent acts exactly like the trained policy', async () => {
  const spec = trainerJobSpecSchema.parse({
    job_id: 'agent-policy',
    algorithm: 'DQN',
    environment: 'pong',
    total_timesteps: 8000,
    seed: 7,
    artifact_dir: '/unused',
    evaluation_episodes: 0,
    environment_options: { target_score: 2 },
    hyperparameters: { learning_starts: 500, net_arch: [16, 16], learning_rate: 1e-3, train_freq: 2 },
  });
  const outcome = await runTrainingJob(spec, { now: () => performance.now(), shouldStop: () => false, onProgress: () => undefined });
  if (outcome.status !== 'completed') throw new Error('training did not complete');

  const agentDir = mkdtempSync(join(tmpdir(), 'policy-agent-'));
  const files = policyAgentFiles(JSON.stringify(outcome.artifact));
  for (const name of POLICY_AGENT_FILE_NAMES) writeFileSync(join(agentDir, name), files[name]);

  // Observations from a real game in which player 0 follows the policy.
  const policy = loadPolicy(outcome.artifact);
  if (policy.kind !== 'discrete') throw new Error('expected a discrete policy');
  const pong = createPong({ targetScore: 2 });
  let state = pong.reset(11);
  const observations: number[][] = [];
  const expectedActions: number[] = [];
  while (!state.done && observations.length < 400) {
    const observation = pong.observe(state, 0);
    const action = policy.act(Float64Array.from(observation));
    observations.push(observation);
    expectedActions.push(action);
    state = pong.step(state, [action, 0]).state;
  }
  expect(new Set(expectedActions).size).toBeGreaterThan(1);

  const runner = spawn('python3', [join(REPOSITORY_ROOT, 'runtime/python/arena_runner.py'), agentDir]);
  let stderr = '';
  runner.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const replies = createInterface({ input: runner.stdout })[Symbol.asyncIterator]();
  const send = (message: unknown): void => {
    runner.stdin.write(`${JSON.stringify(message)}\n`);
  };
  const receive = async (): Promise<Record<string, unknown>> => {
    const next = await replies.next();
    if (next.done) throw new Error(`agent runner closed its output; stderr: ${stderr}`);
    return JSON.parse(next.value) as Record<string, unknown>;
  };
  send({
    type: 'init',
    protocol_version: 1,
    environment: 'pong',
    player: 0,
    seed: 1,
    observation_space: pong.observationSpace,
    action_space: pong.actionSpace,
  });
  expect(await receive()).toMatchObject({ type: 'ready' });
  const agentActions: unknown[] = [];
  for (const [step, observation] of observations.entries()) {
    send({ type: 'step', step, observation });
    agentActions.push((await receive()).action);
  }
  send({ type: 'close' });
  runner.stdin.end();
  rmSync(agentDir, { recursive: true, force: true });
  expect(agentActions).toEqual(expectedActions);
}, 60_000);

it('refuses a continuous policy, which the discrete arena cannot use', async () => {
  const spec = trainerJobSpecSchema.parse({
    job_id: 'lapsim',
    algorithm: 'SAC',
    environment: 'LapSim-v1',
    total_timesteps: 10,
    artifact_dir: '/unused',
    evaluation_episodes: 0,
    hyperparameters: { net_arch: [4] },
  });
  const outcome = await runTrainingJob(spec, { now: () => 0, shouldStop: () => false, onProgress: () => undefined });
  if (outcome.status !== 'completed') throw new Error('training did not complete');
  expect(() => policyAgentFiles(outcome.artifact)).toThrow(/only discrete policies/);
});
