/**
 * The loop DQN and SAC share: act, store the transition, learn from replayed minibatches every
 * `train_freq` steps once `learning_starts` have been collected, report progress, stop when asked.
 * What differs (how an action is chosen and stored, what one update is, what happens after a
 * step) is the learner's.
 */
import { deriveSeed, type RandomSource } from '../domain/training/seeded-random';
import type { StepResult } from '../domain/training/training-environment';
import type { TransitionBatch, ReplayBuffer } from './replay-buffer';
import { pauseForEvents, ProgressTracker, type TrainingHooks, type TrainingStatus } from './training-progress';

export interface OffPolicyEnvironment<Action> {
  reset(seed: number): Float64Array;
  step(action: Action): StepResult;
}

export interface OffPolicySchedule {
  readonly learning_starts: number;
  readonly train_freq: number;
  readonly gradient_steps: number;
}

export interface OffPolicyLearner<Action> {
  act(observation: Float64Array, timestep: number): Action;
  /** The action as the replay buffer stores it. */
  stored(action: Action): Float64Array;
  /** One gradient step on a sampled minibatch; its loss. */
  learn(batch: TransitionBatch): number;
  /** After each environment step (target network updates). */
  afterStep?(stepsTaken: number): void;
}

export interface OffPolicyRun<Action> {
  readonly environment: OffPolicyEnvironment<Action>;
  readonly schedule: OffPolicySchedule;
  readonly learner: OffPolicyLearner<Action>;
  readonly buffer: ReplayBuffer;
  readonly batch: TransitionBatch;
  readonly random: RandomSource;
  readonly totalTimesteps: number;
  readonly seed: number;
  readonly hooks: TrainingHooks;
}

/** Episode k of a run resets with deriveSeed(seed, k), so the run is reproducible from `seed`. */
export async function runOffPolicy<Action>(run: OffPolicyRun<Action>): Promise<{ status: TrainingStatus; timestep: number }> {
  const { environment, schedule, learner, buffer, batch, random, totalTimesteps, seed, hooks } = run;
  const tracker = new ProgressTracker(hooks);
  let episode = 0;
  let observation = environment.reset(deriveSeed(seed, episode));

  for (let timestep = 0; timestep < totalTimesteps; timestep++) {
    if (hooks.shouldStop()) return { status: 'cancelled', timestep };
    const action = learner.act(observation, timestep);
    const result = environment.step(action);
    buffer.add(observation, learner.stored(action), result.reward, result.observation, result.done && !result.truncated);
    tracker.recordStep(result.reward, result.done);
    observation = result.done ? environment.reset(deriveSeed(seed, ++episode)) : result.observation;

    const stepsTaken = timestep + 1;
    if (stepsTaken > schedule.learning_starts && stepsTaken % schedule.train_freq === 0) {
      for (let g = 0; g < schedule.gradient_steps; g++) {
        buffer.sampleInto(batch, random);
        tracker.recordLoss(learner.learn(batch));
      }
    }
    learner.afterStep?.(stepsTaken);
    if (tracker.afterStep(stepsTaken, totalTimesteps)) await pauseForEvents();
  }
  return { status: 'completed', timestep: totalTimesteps };
}
