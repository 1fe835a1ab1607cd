/** The DQN training loop: ε-greedy collection, replayed minibatches, periodic target updates. */
import { explorationRate, type DqnHyperparameters } from '../domain/training/hyperparameters';
import { createSeededRandom, deriveSeed } from '../domain/training/seeded-random';
import type { DiscreteEnvironment } from '../domain/training/training-environment';
import { DqnAgent } from './dqn';
import { allocateBatch, ReplayBuffer } from './replay-buffer';
import { pauseForEvents, ProgressTracker, type TrainingHooks, type TrainingStatus } from './training-progress';

export interface DqnTrainingResult {
  status: TrainingStatus;
  timestep: number;
  agent: DqnAgent;
}

/** Episode k of a run resets with deriveSeed(seed, k), so the run is reproducible from `seed`. */
export async function trainDqn(
  environment: DiscreteEnvironment,
  hyperparameters: DqnHyperparameters,
  totalTimesteps: number,
  seed: number,
  hooks: TrainingHooks,
): Promise<DqnTrainingResult> {
  const random = createSeededRandom(seed);
  const agent = new DqnAgent(
    environment.observationSize,
    environment.actionCount,
    {
      learningRate: hyperparameters.learning_rate,
      gamma: hyperparameters.gamma,
      tau: hyperparameters.tau,
      hiddenLayers: hyperparameters.net_arch,
      maxGradientNorm: hyperparameters.max_grad_norm,
    },
    random,
  );
  const buffer = new ReplayBuffer(Math.min(hyperparameters.buffer_size, totalTimesteps), environment.observationSize, 1);
  const batch = allocateBatch(hyperparameters.batch_size, environment.observationSize, 1);
  const tracker = new ProgressTracker(hooks);
  const storedAction = new Float64Array(1);
  let episode = 0;
  let observation = environment.reset(deriveSeed(seed, episode));

  for (let timestep = 0; timestep < totalTimesteps; timestep++) {
    if (hooks.shouldStop()) return { status: 'cancelled', timestep, agent };
    const epsilon = timestep < hyperparameters.learning_starts ? 1 : explorationRate(hyperparameters, timestep, totalTimesteps);
    const action = agent.explore(observation, epsilon);
    const result = environment.step(action);
    storedAction[0] = action;
    buffer.add(observation, storedAction, result.reward, result.observation, result.done && !result.truncated);
    tracker.recordStep(result.reward, result.done);
    observation = result.done ? environment.reset(deriveSeed(seed, ++episode)) : result.observation;

    const stepsTaken = timestep + 1;
    if (stepsTaken > hyperparameters.learning_starts && stepsTaken % hyperparameters.train_freq === 0) {
      for (let g = 0; g < hyperparameters.gradient_steps; g++) {
        buffer.sampleInto(batch, random);
        tracker.recordLoss(agent.update(batch));
      }
    }
    if (stepsTaken % hyperparameters.target_update_interval === 0) agent.updateTarget();
    if (tracker.afterStep(stepsTaken, totalTimesteps)) await pauseForEvents();
  }
  return { status: 'completed', timestep: totalTimesteps, agent };
}
