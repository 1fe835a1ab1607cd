/**
 * Deep Q-learning for discrete actions (Mnih et al. 2015) with the Double-DQN target (van Hasselt
 * et al. 2016): the online network picks the next action, the target network values it, which
 * curbs the overestimation of plain max-Q targets. Huber loss and gradient-norm clipping as in
 * Stable-Baselines3.
 */
import { randomInteger, type RandomSource } from '../domain/training/seeded-random';
import { Adam, clipGradientNorm } from './adam';
import { Mlp } from './mlp';
import type { TransitionBatch } from './replay-buffer';

export interface DqnSettings {
  learningRate: number;
  gamma: number;
  /** Fraction of the online weights blended into the target at each target update (1 = copy). */
  tau: number;
  hiddenLayers: readonly number[];
  maxGradientNorm: number;
}

export class DqnAgent {
  readonly q: Mlp;
  readonly qTarget: Mlp;
  private readonly optimizer: Adam;

  constructor(
    readonly observationSize: number,
    readonly actionCount: number,
    readonly settings: DqnSettings,
    private readonly random: RandomSource,
  ) {
    this.q = Mlp.initialised([observationSize, ...settings.hiddenLayers, actionCount], random);
    this.qTarget = this.q.clone();
    this.optimizer = new Adam(this.q.parameters, this.q.gradients, settings.learningRate);
  }

  greedyAction(observation: Float64Array): number {
    return argmaxRow(this.q.forward(observation, 1), 0, this.actionCount);
  }

  /** ε-greedy: a uniformly random action with probability ε, else the greedy one. */
  explore(observation: Float64Array, epsilon: number): number {
    if (this.random.nextFloat() < epsilon) return randomInteger(this.random, this.actionCount);
    return this.greedyAction(observation);
  }

  /** One gradient step on the Huber TD error; returns the mean loss. */
  update(batch: TransitionBatch): number {
    const size = batch.size;
    const count = this.actionCount;
    const nextOnline = this.q.forward(batch.nextObservations, size);
    const nextActions = new Int32Array(size);
    for (let b = 0; b < size; b++) nextActions[b] = argmaxRow(nextOnline, b, count);
    const nextTarget = this.qTarget.forward(batch.nextObservations, size);
    const targets = new Float64Array(size);
    for (let b = 0; b < size; b++) {
      const nextValue = nextTarget[b * count + nextActions[b]!]!;
      targets[b] = batch.rewards[b]! + this.settings.gamma * (1 - batch.terminals[b]!) * nextValue;
    }

    const values = this.q.forward(batch.observations, size);
    const gradient = new Float64Array(size * count);
    let loss = 0;
    for (let b = 0; b < size; b++) {
      const taken = b * count + batch.actions[b]!;
      const error = values[taken]! - targets[b]!;
      const magnitude = Math.abs(error);
      loss += (magnitude <= 1 ? 0.5 * error * error : magnitude - 0.5) / size;
      gradient[taken] = Math.max(-1, Math.min(1, error)) / size;
    }
    this.q.zeroGradients();
    this.q.backward(gradient, { inputGradient: false });
    clipGradientNorm(this.q.gradients, this.settings.maxGradientNorm);
    this.optimizer.step();
    return loss;
  }

  updateTarget(): void {
    this.qTarget.polyakUpdateFrom(this.q, this.settings.tau);
  }
}

export function argmaxRow(values: Float64Array, row: number, width: number): number {
  let best = 0;
  for (let k = 1; k < width; k++) if (values[row * width + k]! > values[row * width + best]!) best = k;
  return best;
}
