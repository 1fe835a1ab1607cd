/** The DQN training loop: ε-greedy collection, replayed minibatches, periodic target updates. */
import { explorationRate, type DqnHyperparameters } from '../domain/training/hyperparameters';
import { createSeededRandom } from '../domain/training/seeded-random';
import type { DiscreteEnvironment } from '../domain/training/training-environment';
import { DqnAgent } from './dqn';
import { allocateBatch, ReplayBuffer } from './replay-buffer';
import { runOffPolicy, type OffPolicyLearner } from './off-policy-loop';
import type { TrainingHooks, TrainingStatus } from './training-progress';

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
  const storedAction = new Float64Array(1);
  const learner: OffPolicyLearner<number> = {
    act: (observation, timestep) =>
      agent.explore(observation, timestep < hyperparameters.learning_starts ? 1 : explorationRate(hyperparameters, timestep, totalTimesteps)),
    stored: (action) => {
      storedAction[0] = action;
      return storedAction;
    },
    learn: (sample) => agent.update(sample),
    afterStep: (stepsTaken) => {
      if (stepsTaken % hyperparameters.target_update_interval === 0) agent.updateTarget();
    },
  };
  const outcome = await runOffPolicy({ environment, schedule: hyperparameters, learner, buffer, batch, random, totalTimesteps, seed, hooks });
  return { ...outcome, agent };
}
