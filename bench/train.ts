/**
 * Training throughput: environment steps per second and gradient updates per second of the
 * built-in learners, at the default network size. Run with `npm run bench:train`
 * (ts-node --transpile-only bench/train.ts). Each row runs for about BENCH_SECONDS seconds.
 */
import { DQN_DEFAULTS, SAC_DEFAULTS } from '../src/domain/training/hyperparameters';
import { LapSimEnvironment } from '../src/domain/training/lapsim-env';
import { PongTrainingEnvironment } from '../src/domain/training/pong-training-env';
import { createSeededRandom, randomInteger, uniformBetween } from '../src/domain/training/seeded-random';
import type { TrainingEnvironment } from '../src/domain/training/training-environment';
import { DqnAgent } from '../src/ml/dqn';
import { allocateBatch, ReplayBuffer } from '../src/ml/replay-buffer';
import { SacAgent } from '../src/ml/sac';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

/** Calls `work` (which does `unitsPerCall` units) until SECONDS have passed; returns units per second. */
function rate(work: () => void, unitsPerCall = 1): number {
  for (let i = 0; i < 3; i++) work(); // let the JIT settle
  const started = performance.now();
  let units = 0;
  while (performance.now() - started < SECONDS * 1000) {
    work();
    units += unitsPerCall;
  }
  return units / ((performance.now() - started) / 1000);
}

function environmentStepsPerSecond(environment: TrainingEnvironment): number {
  const random = createSeededRandom(1);
  let episode = 0;
  environment.reset(episode);
  const action = new Float64Array(environment.actionKind === 'continuous' ? environment.actionSize : 0);
  const step = (): void => {
    const result =
      environment.actionKind === 'continuous'
        ? environment.step(action.map(() => uniformBetween(random, -1, 1)))
        : environment.step(randomInteger(random, environment.actionCount));
    if (result.done) environment.reset(++episode);
  };
  return rate(() => {
    for (let i = 0; i < 1000; i++) step();
  }, 1000);
}

/** A replay buffer filled with real LapSim-v1 / pong transitions under random actions. */
function filledBuffer(environment: TrainingEnvironment, actionSize: number, size: number): ReplayBuffer {
  const random = createSeededRandom(2);
  const buffer = new ReplayBuffer(size, environment.observationSize, actionSize);
  let observation = environment.reset(0);
  for (let i = 0; i < size; i++) {
    const action =
      environment.actionKind === 'continuous'
        ? Float64Array.from({ length: actionSize }, () => uniformBetween(random, -1, 1))
        : Float64Array.of(randomInteger(random, environment.actionCount));
    const result =
      environment.actionKind === 'continuous' ? environment.step(action) : environment.step(action[0]!);
    buffer.add(observation, action, result.reward, result.observation, result.done && !result.truncated);
    observation = result.done ? environment.reset(i) : result.observation;
  }
  return buffer;
}

function sacUpdatesPerSecond(batchSize: number, netArch: readonly number[]): number {
  const environment = new LapSimEnvironment();
  const random = createSeededRandom(3);
  const buffer = filledBuffer(environment, 2, 10_000);
  const batch = allocateBatch(batchSize, environment.observationSize, 2);
  const agent = new SacAgent(
    environment.observationSize,
    2,
    { learningRate: SAC_DEFAULTS.learning_rate, gamma: 0.99, tau: 0.005, hiddenLayers: netArch, initialEntropyCoefficient: 1 },
    random,
  );
  return rate(() => {
    buffer.sampleInto(batch, random);
    agent.update(batch);
  });
}

function dqnUpdatesPerSecond(batchSize: number, netArch: readonly number[]): number {
  const environment = new PongTrainingEnvironment();
  const random = createSeededRandom(4);
  const buffer = filledBuffer(environment, 1, 10_000);
  const batch = allocateBatch(batchSize, environment.observationSize, 1);
  const agent = new DqnAgent(
    environment.observationSize,
    3,
    { learningRate: DQN_DEFAULTS.learning_rate, gamma: 0.99, tau: 1, hiddenLayers: netArch, maxGradientNorm: 10 },
    random,
  );
  return rate(() => {
    buffer.sampleInto(batch, random);
    agent.update(batch);
  });
}

const rows: Array<[string, () => number]> = [
  ['LapSim-v1 env steps/s (random actions)', () => environmentStepsPerSecond(new LapSimEnvironment())],
  ['pong env steps/s (random actions, scripted opponent)', () => environmentStepsPerSecond(new PongTrainingEnvironment())],
  ['SAC updates/s (batch 256, net 64x64)', () => sacUpdatesPerSecond(256, [64, 64])],
  ['SAC updates/s (batch 64, net 32x32)', () => sacUpdatesPerSecond(64, [32, 32])],
  ['DQN updates/s (batch 32, net 64x64)', () => dqnUpdatesPerSecond(32, [64, 64])],
  ['DQN updates/s (batch 256, net 64x64)', () => dqnUpdatesPerSecond(256, [64, 64])],
];

const width = Math.max(...rows.map(([name]) => name.length));
process.stdout.write(`${'measure'.padEnd(width)}  per second\n${'-'.repeat(width)}  ----------\n`);
for (const [name, measure] of rows) {
  process.stdout.write(`${name.padEnd(width)}  ${Math.round(measure()).toLocaleString('en-US').padStart(10)}\n`);
}
