/**
 * The agent protocol's cost per step: a full pong match with two sandboxed agent processes (the
 * example tracking and random agents) speaking the protocol every step, next to the pure
 * environment with in-process policies. `npm run bench:pong` (ts-node --transpile-only bench/pong-steps.ts).
 *
 * Two matches of different lengths are played and differenced, so starting the sandboxes does not
 * count: wall µs per step = (wall(long) - wall(short)) / (long - short) - environment alone.
 * CPU per step is measured the same way: this process (process.cpuUsage) and the agents (their
 * CPU time sampled from /proc every 200 ms while they run, bubblewrap included), which holds up
 * better than wall time on a loaded machine. Linux only. A warm-up match as long as the long one
 * comes first, so that neither measured match pays for compiling the hot code (the floor warms up
 * too). Then the floor under all of it (bench/pipe-floor.ts: a bare pipe ping-pong with two
 * processes in the same sandbox) is measured in the same run, every way node can carry it: on
 * node's stdio socket pairs through streams (the match runner's mechanism, the reference), on real
 * pipes with direct writes (evaluated in round five, not adopted) and on blocking pipes with reader
 * threads (evaluated in round four, not adopted); the protocol's figures are given as a ratio to
 * the first two.
 *
 *   npx ts-node --transpile-only bench/pong-steps.ts [envSteps] [matchSteps]
 * Environment: BENCH_PONG_ENV_STEPS (default 300000), BENCH_PONG_STEPS (default 20000).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createPong, PONG_ACTIONS } from '../src/domain/arena/environments/pong';
import { describeSandboxEngine, detectSandboxEngine } from '../src/infrastructure/sandbox/sandbox-engine';
import { runMatch } from '../src/workers/matches/match-runner';
import { measurePipeFloor } from './pipe-floor';

const EXAMPLES = resolve(__dirname, '..', 'runtime', 'python', 'examples');
/** Linux USER_HZ: /proc reports CPU times in 1/100 s. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface AgentProtocolCost {
  readonly engine: string;
  /** Steps per second of the environment alone (both policies in-process). */
  readonly environmentStepsPerSecond: number;
  readonly matchSteps: number;
  /** Wall-clock microseconds per step the protocol adds over the environment alone. */
  readonly wallMicrosPerStep: number;
  /** CPU microseconds per step in this process (host side of the protocol and the environment). */
  readonly hostCpuMicrosPerStep: number;
  /** CPU microseconds per step of both agent sandboxes together. */
  readonly agentsCpuMicrosPerStep: number;
  /**
   * The floor (bench/pipe-floor.ts), measured right after the matches: a bare ping-pong of one
   * short line with two python processes in the same sandbox, wall and host CPU per round, over
   * node's stdio socket pairs through streams, as the protocol.
   */
  readonly floorWallMicrosPerStep: number;
  readonly floorHostCpuMicrosPerStep: number;
  /** The same floor over real pipes written with one writeSync per line (evaluated, not adopted). */
  readonly pipesFloorWallMicrosPerStep: number;
  readonly pipesFloorHostCpuMicrosPerStep: number;
  /** The same floor over blocking pipes, a reader thread per process and Atomics.wait (not adopted). */
  readonly blockingFloorWallMicrosPerStep: number;
  readonly blockingFloorHostCpuMicrosPerStep: number;
}

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

/** utime + stime of a process, in clock ticks (0 once it is gone). */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
    return Number(fields[14 - 3]) + Number(fields[15 - 3]);
  } catch {
    return 0;
  }
}

/** Every descendant of `pid`, from the kernel's children lists (cheap: no scan of all of /proc). */
function descendants(pid: number, found: number[] = []): number[] {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ')) {
      if (child.trim() === '') continue;
      found.push(Number(child));
      descendants(Number(child), found);
    }
  }
  return found;
}

/**
 * CPU time of this process's descendants (the sandboxes: bubblewrap and the python agents), sampled
 * from /proc while they run, since a sandbox killed at the end of a match is never accounted to us.
 */
function watchDescendants(): { stop: () => number } {
  const seen = new Map<number, number>();
  const sample = (): void => {
    for (const pid of descendants(process.pid)) seen.set(pid, Math.max(seen.get(pid) ?? 0, cpuTicks(pid)));
  };
  const timer = setInterval(sample, 200);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      return ([...seen.values()].reduce((sum, ticks) => sum + ticks, 0) * 1e6) / CLOCK_TICKS_PER_SECOND;
    },
  };
}

interface MatchCost {
  steps: number;
  wallMicros: number;
  hostCpuMicros: number;
  childCpuMicros: number;
}

async function playMatch(steps: number): Promise<MatchCost> {
  const host = process.cpuUsage();
  const children = watchDescendants();
  const startedAt = performance.now();
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
  const wallMicros = (performance.now() - startedAt) * 1000;
  if (result.forfeits.length > 0) throw new Error(`benchmark match forfeited: ${JSON.stringify(result.forfeits)}`);
  const childCpuMicros = children.stop();
  const hostUsage = process.cpuUsage(host);
  return { steps: result.totalSteps, wallMicros, hostCpuMicros: hostUsage.user + hostUsage.system, childCpuMicros };
}

export async function measureAgentProtocol(options: { environmentSteps?: number; matchSteps?: number } = {}): Promise<AgentProtocolCost | null> {
  const environmentSteps = options.environmentSteps ?? Number(process.env.BENCH_PONG_ENV_STEPS ?? 300_000);
  const matchSteps = options.matchSteps ?? Number(process.env.BENCH_PONG_STEPS ?? 20_000);
  const engine = detectSandboxEngine();
  if (engine.kind === 'none') return null;
  const alone = environmentAlone(environmentSteps);
  // Warm-up: JIT, page cache of python and bubblewrap. As long as the long match: after 200 steps
  // (the warm-up up to round four) V8 was still compiling the step's code during a 5 000-step match,
  // which added up to 50 µs of CPU per step to the quick table's figure.
  await playMatch(matchSteps);
  const short = await playMatch(Math.max(100, Math.floor(matchSteps / 10)));
  const long = await playMatch(matchSteps);
  const floor = await measurePipeFloor(matchSteps, 2, 'stream');
  const pipesFloor = await measurePipeFloor(matchSteps, 2, 'pipes');
  const blockingFloor = await measurePipeFloor(matchSteps, 2, 'blocking');
  if (floor === null || pipesFloor === null || blockingFloor === null) return null;
  const steps = long.steps - short.steps;
  const per = (longValue: number, shortValue: number) => (longValue - shortValue) / steps;
  return {
    engine: describeSandboxEngine(engine),
    environmentStepsPerSecond: alone,
    matchSteps: long.steps,
    wallMicrosPerStep: per(long.wallMicros, short.wallMicros) - 1e6 / alone,
    hostCpuMicrosPerStep: per(long.hostCpuMicros, short.hostCpuMicros),
    agentsCpuMicrosPerStep: per(long.childCpuMicros, short.childCpuMicros),
    floorWallMicrosPerStep: floor.wallMicrosPerRound,
    floorHostCpuMicrosPerStep: floor.hostCpuMicrosPerRound,
    pipesFloorWallMicrosPerStep: pipesFloor.wallMicrosPerRound,
    pipesFloorHostCpuMicrosPerStep: pipesFloor.hostCpuMicrosPerRound,
    blockingFloorWallMicrosPerStep: blockingFloor.wallMicrosPerRound,
    blockingFloorHostCpuMicrosPerStep: blockingFloor.hostCpuMicrosPerRound,
  };
}

async function main(): Promise<void> {
  const environmentSteps = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const matchSteps = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  const cost = await measureAgentProtocol({ ...(environmentSteps ? { environmentSteps } : {}), ...(matchSteps ? { matchSteps } : {}) });
  if (cost === null) {
    console.log('SKIPPED: no sandbox engine on this machine');
    return;
  }
  console.log(`sandbox: ${cost.engine}`);
  console.log(`pong environment alone (in-process policies): ${Math.round(cost.environmentStepsPerSecond).toLocaleString('en')} steps/s`);
  console.log(`match of ${cost.matchSteps.toLocaleString('en')} steps with two sandboxed agents, differenced against a short one:`);
  console.log(`  agent protocol, wall clock: ${cost.wallMicrosPerStep.toFixed(1)} us per step (over the environment alone)`);
  console.log(`  CPU in this process:        ${cost.hostCpuMicrosPerStep.toFixed(1)} us per step`);
  console.log(`  CPU of both agents:         ${cost.agentsCpuMicrosPerStep.toFixed(1)} us per step`);
  console.log(`floor, a bare line ping-pong with two python processes in the same sandbox (bench/pipe-floor.ts):`);
  console.log(`  node's stdio socket pairs through streams, on the event loop (the protocol's mechanism):`);
  console.log(`    wall clock:               ${cost.floorWallMicrosPerStep.toFixed(1)} us per round (protocol / floor: ${(cost.wallMicrosPerStep / cost.floorWallMicrosPerStep).toFixed(2)})`);
  console.log(`    CPU in this process:      ${cost.floorHostCpuMicrosPerStep.toFixed(1)} us per round (protocol / floor: ${(cost.hostCpuMicrosPerStep / cost.floorHostCpuMicrosPerStep).toFixed(2)})`);
  console.log(`  real pipes, one writeSync per line, answers on the event loop (evaluated, not adopted):`);
  console.log(`    wall clock:               ${cost.pipesFloorWallMicrosPerStep.toFixed(1)} us per round (protocol / floor: ${(cost.wallMicrosPerStep / cost.pipesFloorWallMicrosPerStep).toFixed(2)})`);
  console.log(`    CPU in this process:      ${cost.pipesFloorHostCpuMicrosPerStep.toFixed(1)} us per round (protocol / floor: ${(cost.hostCpuMicrosPerStep / cost.pipesFloorHostCpuMicrosPerStep).toFixed(2)})`);
  console.log(`  blocking pipes, a reader thread per process, Atomics.wait (evaluated, not adopted):`);
  console.log(`    wall clock:               ${cost.blockingFloorWallMicrosPerStep.toFixed(1)} us per round`);
  console.log(`    CPU in this process:      ${cost.blockingFloorHostCpuMicrosPerStep.toFixed(1)} us per round`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
