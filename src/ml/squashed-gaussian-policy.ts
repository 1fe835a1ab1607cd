/**
 * SAC's actor: a network giving, per action dimension, the mean and (squashed) log standard
 * deviation of a Gaussian whose samples pass through tanh, so actions land in (-1, 1). Sampling
 * is reparameterised (u = μ + σ·ε) so the actor loss can be differentiated through the action.
 */
import { type RandomSource, standardNormal } from '../domain/training/seeded-random';
import type { Mlp } from './mlp';

/** Bounds of log σ; the raw output is mapped into them with tanh, which keeps gradients smooth. */
export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** log(1 − tanh(u)²) without cancellation for large |u|. */
const logOneMinusTanhSquared = (u: number): number => 2 * (Math.LN2 - u - softplus(-2 * u));
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

export class SquashedGaussianPolicy {
  readonly actionSize: number;
  private capacity = 0;
  private batch = 0;
  private noise = new Float64Array(0);
  private standardDeviations = new Float64Array(0);
  private rawLogStd = new Float64Array(0);
  private actions = new Float64Array(0);
  private logProbabilities = new Float64Array(0);
  private outputGradient = new Float64Array(0);

  constructor(readonly network: Mlp) {
    if (network.outputSize % 2 !== 0) throw new Error('the actor network must output a mean and a log std per action');
    this.actionSize = network.outputSize / 2;
  }

  /** The policy's mode: tanh of the mean. Used for evaluation and for a saved policy. */
  deterministicAction(observation: Float64Array): Float64Array {
    const output = this.network.forward(observation, 1);
    const action = new Float64Array(this.actionSize);
    for (let k = 0; k < this.actionSize; k++) action[k] = Math.tanh(output[k]!);
    return action;
  }

  /**
   * Samples one action per row and its log-probability. The returned arrays are owned by the
   * policy and stay valid until the next call; backward uses what this call kept.
   */
  sampleBatch(observations: Float64Array, batch: number, random: RandomSource): { actions: Float64Array; logProbabilities: Float64Array } {
    this.ensureCapacity(batch);
    this.batch = batch;
    const size = this.actionSize;
    const output = this.network.forward(observations, batch);
    for (let b = 0; b < batch; b++) {
      let logProbability = 0;
      for (let k = 0; k < size; k++) {
        const index = b * size + k;
        const mean = output[b * 2 * size + k]!;
        const raw = output[b * 2 * size + size + k]!;
        const logStd = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (Math.tanh(raw) + 1);
        const std = Math.exp(logStd);
        const epsilon = standardNormal(random);
        const u = mean + std * epsilon;
        this.noise[index] = epsilon;
        this.standardDeviations[index] = std;
        this.rawLogStd[index] = raw;
        this.actions[index] = Math.tanh(u);
        logProbability += -0.5 * epsilon * epsilon - logStd - HALF_LOG_TWO_PI - logOneMinusTanhSquared(u);
      }
      this.logProbabilities[b] = logProbability;
    }
    return {
      actions: this.actions.subarray(0, batch * size),
      logProbabilities: this.logProbabilities.subarray(0, batch),
    };
  }

  /**
   * Backpropagates a loss that depends on the sampled actions (dLoss/da, batch x actions) and on
   * their log-probabilities (dLoss/dlogπ, one per row) into the network's parameter gradients.
   */
  backward(actionGradient: Float64Array, logProbabilityGradient: Float64Array): void {
    const size = this.actionSize;
    const gradient = this.outputGradient;
    for (let b = 0; b < this.batch; b++) {
      const gLogProbability = logProbabilityGradient[b]!;
      for (let k = 0; k < size; k++) {
        const index = b * size + k;
        const action = this.actions[index]!;
        // a = tanh(u); logπ contains −log(1 − tanh(u)²), whose derivative in u is 2·tanh(u).
        const gU = actionGradient[index]! * (1 - action * action) + gLogProbability * 2 * action;
        // u = μ + σ·ε and logπ contains −log σ directly.
        const gLogStd = gU * this.standardDeviations[index]! * this.noise[index]! - gLogProbability;
        const squash = Math.tanh(this.rawLogStd[index]!);
        gradient[b * 2 * size + k] = gU;
        gradient[b * 2 * size + size + k] = gLogStd * 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (1 - squash * squash);
      }
    }
    this.network.backward(gradient.subarray(0, this.batch * 2 * size), { inputGradient: false });
  }

  private ensureCapacity(batch: number): void {
    if (batch <= this.capacity) return;
    this.capacity = batch;
    const size = batch * this.actionSize;
    this.noise = new Float64Array(size);
    this.standardDeviations = new Float64Array(size);
    this.rawLogStd = new Float64Array(size);
    this.actions = new Float64Array(size);
    this.logProbabilities = new Float64Array(batch);
    this.outputGradient = new Float64Array(2 * size);
  }
}
