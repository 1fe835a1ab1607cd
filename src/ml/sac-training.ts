/** The SAC training loop: collect with the stochastic policy, learn from replayed minibatches. */
import type { SacHyperparameters } from '../domain/training/hyperparameters';
import { createSeededRandom, deriveSeed, uniformBetween } from '../domain/training/seeded-random';
import type { ContinuousEnvironment } from '../domain/training/training-environment';
import { allocateBatch, ReplayBuffer } from './replay-buffer';
import { SacAgent } from './sac';
import { pauseForEvents, ProgressTracker, type TrainingHooks, type TrainingStatus } from './training-progress';

export interface SacTrainingResult {
  status: TrainingStatus;
  timestep: number;
  agent: SacAgent;
}

/** Episode k of a run resets with deriveSeed(seed, k), so the run is reproducible from `seed`. */
export async function trainSac(
  environment: ContinuousEnvironment,
  hyperparameters: SacHyperparameters,
  totalTimesteps: number,
  seed: number,
  hooks: TrainingHooks,
): Promise<SacTrainingResult> {
  const random = createSeededRandom(seed);
  const actionSize = environment.actionSize;
  const agent = new SacAgent(
    environment.observationSize,
    actionSize,
    {
      learningRate: hyperparameters.learning_rate,
      gamma: hyperparameters.gamma,
      tau: hyperparameters.tau,
      hiddenLayers: hyperparameters.net_arch,
      initialEntropyCoefficient: 1,
    },
    random,
  );
  // A buffer larger than the run can never fill, so it is not allocated.
  const buffer = new ReplayBuffer(Math.min(hyperparameters.buffer_size, totalTimesteps), environment.observationSize, actionSize);
  const batch = allocateBatch(hyperparameters.batch_size, environment.observationSize, actionSize);
  const tracker = new ProgressTracker(hooks);
  let episode = 0;
  let observation = environment.reset(deriveSeed(seed, episode));

  for (let timestep = 0; timestep < totalTimesteps; timestep++) {
    if (hooks.shouldStop()) return { status: 'cancelled', timestep, agent };
    const action =
      timestep < hyperparameters.learning_starts
        ? Float64Array.from({ length: actionSize }, () => uniformBetween(random, -1, 1))
        : agent.explore(observation);
    const result = environment.step(action);
    buffer.add(observation, action, result.reward, result.observation, result.done && !result.truncated);
    tracker.recordStep(result.reward, result.done);
    observation = result.done ? environment.reset(deriveSeed(seed, ++episode)) : result.observation;

    const stepsTaken = timestep + 1;
    if (stepsTaken > hyperparameters.learning_starts && stepsTaken % hyperparameters.train_freq === 0) {
      for (let g = 0; g < hyperparameters.gradient_steps; g++) {
        buffer.sampleInto(batch, random);
        tracker.recordLoss(agent.update(batch).criticLoss);
      }
    }
    if (tracker.afterStep(stepsTaken, totalTimesteps)) await pauseForEvents();
  }
  return { status: 'completed', timestep: totalTimesteps, agent };
}
