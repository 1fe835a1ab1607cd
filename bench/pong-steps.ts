/**
 * Pong throughput: the pure environment alone, then a full match with two sandboxed agent
 * processes (the example tracking and random agents) speaking the protocol every step.
 *
 *   npx ts-node --transpile-only bench/pong-steps.ts [envSteps] [matchSteps]
 */
import { join, resolve } from 'node:path';
import { createPong, PONG_ACTIONS } from '../src/domain/arena/environments/pong';
import { describeSandboxEngine, detectSandboxEngine } from '../src/infrastructure/sandbox/sandbox-engine';
import { runMatch } from '../src/workers/matches/match-runner';

const ENV_STEPS = Number(process.argv[2] ?? 1_000_000);
const MATCH_STEPS = Number(process.argv[3] ?? 20_000);
const EXAMPLES = resolve(__dirname, '..', 'runtime', 'python', 'examples');

function track(ballY: number, ownY: number): number {
  if (ballY > ownY + 0.02) return PONG_ACTIONS.up;
  if (ballY < ownY - 0.02) return PONG_ACTIONS.down;
  return PONG_ACTIONS.stay;
}

/** Both "agents" in-process: what the environment alone costs, observations included. */
function environmentAlone(steps: number): number {
  const pong = createPong({ maxSteps: 10_000_000 });
  let state = pong.reset(1);
  const startedAt = performance.now();
  for (let step = 0; step < steps; step += 1) {
    if (state.done) state = pong.reset(step);
    const left = pong.observe(state, 0);
    const right = pong.observe(state, 1);
    state = pong.step(state, [track(left[1]!, left[4]!), track(right[1]!, right[4]!)]).state;
  }
  return steps / ((performance.now() - startedAt) / 1000);
}

async function withAgentProcesses(steps: number): Promise<{ stepsPerSecond: number; steps: number }> {
  const result = await runMatch({
    environmentId: 'pong',
    // A target no one reaches, so the match runs to the step cap.
    environmentOptions: { targetScore: 1000, maxSteps: steps },
    seed: 1,
    agents: [
      { id: 'tracker', dir: join(EXAMPLES, 'tracking_agent') },
      { id: 'random', dir: join(EXAMPLES, 'random_agent') },
    ],
  });
  if (result.forfeits.length > 0) throw new Error(`benchmark match forfeited: ${JSON.stringify(result.forfeits)}`);
  return { stepsPerSecond: result.totalSteps / result.executionTimeSec, steps: result.totalSteps };
}

async function main(): Promise<void> {
  const engine = detectSandboxEngine();
  const alone = environmentAlone(ENV_STEPS);
  const withAgents = engine.kind === 'none' ? null : await withAgentProcesses(MATCH_STEPS);
  const rows: [string, string, string][] = [
    ['pong environment alone (in-process policies)', ENV_STEPS.toLocaleString('en'), Math.round(alone).toLocaleString('en')],
    withAgents
      ? ['pong with two sandboxed agent processes', withAgents.steps.toLocaleString('en'), Math.round(withAgents.stepsPerSecond).toLocaleString('en')]
      : ['pong with two sandboxed agent processes', '-', 'no sandbox'],
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...[['setup', 'steps', 'steps/s'], ...rows].map((row) => row[column]!.length)));
  const line = (row: string[]): string => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  |  ');
  console.log(`sandbox: ${describeSandboxEngine(engine)}`);
  console.log(line(['setup', 'steps', 'steps/s']));
  console.log(widths.map((width) => '-'.repeat(width)).join('--+--'));
  rows.forEach((row) => console.log(line(row)));
  if (withAgents) console.log(`the agent protocol costs ${(1e6 / withAgents.stepsPerSecond - 1e6 / alone).toFixed(1)} us per step`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
