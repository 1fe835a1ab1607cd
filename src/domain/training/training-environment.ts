/**
 * The gym-like interface every built-in training environment implements. Environments are pure
 * state machines: all randomness comes from the seed given to reset, nothing reads a clock.
 */

export interface StepResult {
  observation: Float64Array;
  reward: number;
  /** The episode is over; call reset before the next step. */
  done: boolean;
  /**
   * The episode was cut by a step limit rather than reaching a terminal state. Learners keep
   * bootstrapping from the next state's value in that case, because the future did not end.
   */
  truncated: boolean;
}

interface EnvironmentBase {
  readonly id: string;
  readonly observationSize: number;
  /** Starts a new episode; the same seed always gives the same episode for the same actions. */
  reset(seed: number): Float64Array;
}

/** Actions are vectors of `actionSize` numbers in [-1, 1] (values outside are clipped). */
export interface ContinuousEnvironment extends EnvironmentBase {
  readonly actionKind: 'continuous';
  readonly actionSize: number;
  step(action: Float64Array): StepResult;
}

/** Actions are integers in [0, actionCount). */
export interface DiscreteEnvironment extends EnvironmentBase {
  readonly actionKind: 'discrete';
  readonly actionCount: number;
  step(action: number): StepResult;
}

export type TrainingEnvironment = ContinuousEnvironment | DiscreteEnvironment;

export const clampUnit = (value: number): number => (value > 1 ? 1 : value < -1 ? -1 : value);
