/** The SAC training loop: collect with the stochastic policy, learn from replayed minibatches. */
import type { SacHyperparameters } from '../domain/training/hyperparameters';
import { createSeededRandom, uniformBetween } from '../domain/training/seeded-random';
import type { ContinuousEnvironment } from '../domain/training/training-environment';
import { allocateBatch, ReplayBuffer } from './replay-buffer';
import { SacAgent } from './sac';
import { runOffPolicy, type OffPolicyLearner } from './off-policy-loop';
import type { TrainingHooks, TrainingStatus } from './training-progress';

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
  const learner: OffPolicyLearner<Float64Array> = {
    act: (observation, timestep) =>
      timestep < hyperparameters.learning_starts
        ? Float64Array.from({ length: actionSize }, () => uniformBetween(random, -1, 1))
        : agent.explore(observation),
    stored: (action) => action,
    learn: (sample) => agent.update(sample).criticLoss,
  };
  const outcome = await runOffPolicy({ environment, schedule: hyperparameters, learner, buffer, batch, random, totalTimesteps, seed, hooks });
  return { ...outcome, agent };
}
