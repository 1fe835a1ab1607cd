/**
 * Soft Actor-Critic (Haarnoja et al. 2018, the variant with automatic entropy tuning), as in
 * Stable-Baselines3: twin Q networks with polyak-averaged targets, a tanh-squashed Gaussian actor,
 * and log α learned towards a target entropy of −(action dimensions).
 */
import type { RandomSource } from '../domain/training/seeded-random';
import { Adam } from './adam';
import { Mlp } from './mlp';
import type { TransitionBatch } from './replay-buffer';
import { SquashedGaussianPolicy } from './squashed-gaussian-policy';

export interface SacSettings {
  learningRate: number;
  gamma: number;
  tau: number;
  hiddenLayers: readonly number[];
  initialEntropyCoefficient: number;
}

export interface SacLosses {
  criticLoss: number;
  actorLoss: number;
  entropyCoefficient: number;
}

export class SacAgent {
  readonly policy: SquashedGaussianPolicy;
  readonly q1: Mlp;
  readonly q2: Mlp;
  readonly q1Target: Mlp;
  readonly q2Target: Mlp;
  readonly targetEntropy: number;
  private readonly logEntropyCoefficient = new Float64Array(1);
  private readonly logEntropyGradient = new Float64Array(1);
  private readonly actorOptimizer: Adam;
  private readonly q1Optimizer: Adam;
  private readonly q2Optimizer: Adam;
  private readonly entropyOptimizer: Adam;
  private criticInput = new Float64Array(0);
  private scratch = new Float64Array(0);

  constructor(
    readonly observationSize: number,
    readonly actionSize: number,
    readonly settings: SacSettings,
    private readonly random: RandomSource,
  ) {
    const criticLayers = [observationSize + actionSize, ...settings.hiddenLayers, 1];
    this.policy = new SquashedGaussianPolicy(Mlp.initialised([observationSize, ...settings.hiddenLayers, 2 * actionSize], random));
    this.q1 = Mlp.initialised(criticLayers, random);
    this.q2 = Mlp.initialised(criticLayers, random);
    this.q1Target = this.q1.clone();
    this.q2Target = this.q2.clone();
    this.targetEntropy = -actionSize;
    this.logEntropyCoefficient[0] = Math.log(settings.initialEntropyCoefficient);
    const rate = settings.learningRate;
    this.actorOptimizer = new Adam(this.policy.network.parameters, this.policy.network.gradients, rate);
    this.q1Optimizer = new Adam(this.q1.parameters, this.q1.gradients, rate);
    this.q2Optimizer = new Adam(this.q2.parameters, this.q2.gradients, rate);
    this.entropyOptimizer = new Adam(this.logEntropyCoefficient, this.logEntropyGradient, rate);
  }

  get entropyCoefficient(): number {
    return Math.exp(this.logEntropyCoefficient[0]!);
  }

  /** A stochastic action for exploration while collecting experience. */
  explore(observation: Float64Array): Float64Array {
    return Float64Array.from(this.policy.sampleBatch(observation, 1, this.random).actions);
  }

  /** One gradient step on critics, actor and entropy coefficient, then the target networks. */
  update(batch: TransitionBatch): SacLosses {
    const size = batch.size;
    this.ensureCapacity(size);
    const alpha = this.entropyCoefficient;
    const targets = this.criticTargets(batch, alpha);
    const criticLoss = this.updateCritic(this.q1, this.q1Optimizer, batch, targets) + this.updateCritic(this.q2, this.q2Optimizer, batch, targets);

    // Actor: minimise E[α logπ(a|s) − min Q(s, a)] with a sampled by reparameterisation.
    const { actions, logProbabilities } = this.policy.sampleBatch(batch.observations, size, this.random);
    this.fillCriticInput(batch.observations, actions, size);
    const q1Values = Float64Array.from(this.q1.forward(this.criticInput, size));
    const q2Values = this.q2.forward(this.criticInput, size);
    const q1Gradient = new Float64Array(size);
    const q2Gradient = new Float64Array(size);
    let actorLoss = 0;
    let meanLogProbability = 0;
    for (let b = 0; b < size; b++) {
      const useFirst = q1Values[b]! <= q2Values[b]!;
      actorLoss += alpha * logProbabilities[b]! - (useFirst ? q1Values[b]! : q2Values[b]!);
      meanLogProbability += logProbabilities[b]! / size;
      if (useFirst) q1Gradient[b] = -1 / size;
      else q2Gradient[b] = -1 / size;
    }
    const actionGradient = this.actionGradient(q1Gradient, q2Gradient, size);
    const logProbabilityGradient = new Float64Array(size).fill(alpha / size);
    this.policy.network.zeroGradients();
    this.policy.backward(actionGradient, logProbabilityGradient);
    this.actorOptimizer.step();

    // Entropy coefficient: loss = −log α · (logπ + target entropy), with logπ held fixed.
    this.logEntropyGradient[0] = -(meanLogProbability + this.targetEntropy);
    this.entropyOptimizer.step();

    this.q1Target.polyakUpdateFrom(this.q1, this.settings.tau);
    this.q2Target.polyakUpdateFrom(this.q2, this.settings.tau);
    return { criticLoss, actorLoss: actorLoss / size, entropyCoefficient: alpha };
  }

  /** Mean of 0.5·(Q1 − y)² + 0.5·(Q2 − y)² on a batch, without changing anything. */
  criticLoss(batch: TransitionBatch, targets: Float64Array): number {
    this.ensureCapacity(batch.size);
    this.fillCriticInput(batch.observations, batch.actions, batch.size);
    let loss = 0;
    for (const critic of [this.q1, this.q2]) {
      const values = critic.forward(this.criticInput, batch.size);
      for (let b = 0; b < batch.size; b++) loss += (0.5 * (values[b]! - targets[b]!) ** 2) / batch.size;
    }
    return loss;
  }

  /** y = r + γ(1 − terminal)(min target Q(s', a') − α logπ(a'|s')), a' freshly sampled. */
  criticTargets(batch: TransitionBatch, alpha: number): Float64Array {
    const size = batch.size;
    this.ensureCapacity(size);
    const next = this.policy.sampleBatch(batch.nextObservations, size, this.random);
    this.fillCriticInput(batch.nextObservations, next.actions, size);
    const target1 = this.q1Target.forward(this.criticInput, size);
    const target2 = this.q2Target.forward(this.criticInput, size);
    const targets = new Float64Array(size);
    for (let b = 0; b < size; b++) {
      const softValue = Math.min(target1[b]!, target2[b]!) - alpha * next.logProbabilities[b]!;
      targets[b] = batch.rewards[b]! + this.settings.gamma * (1 - batch.terminals[b]!) * softValue;
    }
    return targets;
  }

  private updateCritic(critic: Mlp, optimizer: Adam, batch: TransitionBatch, targets: Float64Array): number {
    const size = batch.size;
    this.fillCriticInput(batch.observations, batch.actions, size);
    const values = critic.forward(this.criticInput, size);
    const gradient = this.scratch;
    let loss = 0;
    for (let b = 0; b < size; b++) {
      const error = values[b]! - targets[b]!;
      loss += (0.5 * error * error) / size;
      gradient[b] = error / size;
    }
    critic.zeroGradients();
    critic.backward(gradient.subarray(0, size), { inputGradient: false });
    optimizer.step();
    return loss;
  }

  /** dLoss/da through whichever critic gave the minimum for each row. */
  private actionGradient(q1Gradient: Float64Array, q2Gradient: Float64Array, size: number): Float64Array {
    const observationSize = this.observationSize;
    const actionSize = this.actionSize;
    const width = observationSize + actionSize;
    const gradient = new Float64Array(size * actionSize);
    for (const [critic, outputGradient] of [[this.q1, q1Gradient], [this.q2, q2Gradient]] as const) {
      const inputGradient = critic.backward(outputGradient, { parameterGradients: false })!;
      for (let b = 0; b < size; b++) {
        for (let k = 0; k < actionSize; k++) gradient[b * actionSize + k] += inputGradient[b * width + observationSize + k]!;
      }
    }
    return gradient;
  }

  private fillCriticInput(observations: Float64Array, actions: Float64Array, size: number): void {
    const observationSize = this.observationSize;
    const actionSize = this.actionSize;
    const width = observationSize + actionSize;
    for (let b = 0; b < size; b++) {
      for (let k = 0; k < observationSize; k++) this.criticInput[b * width + k] = observations[b * observationSize + k]!;
      for (let k = 0; k < actionSize; k++) this.criticInput[b * width + observationSize + k] = actions[b * actionSize + k]!;
    }
  }

  private ensureCapacity(size: number): void {
    if (this.scratch.length >= size) return;
    this.criticInput = new Float64Array(size * (this.observationSize + this.actionSize));
    this.scratch = new Float64Array(size);
  }
}
