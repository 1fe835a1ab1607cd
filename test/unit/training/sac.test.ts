import { createSeededRandom } from '../../../src/domain/training/seeded-random';
import { Mlp } from '../../../src/ml/mlp';
import { allocateBatch, type TransitionBatch } from '../../../src/ml/replay-buffer';
import { SacAgent } from '../../../src/ml/sac';
import { SquashedGaussianPolicy } from '../../../src/ml/squashed-gaussian-policy';

describe('SquashedGaussianPolicy', () => {
  const observationSize = 3;
  const actionSize = 2;
  const batch = 5;
  const setup = createSeededRandom(21);
  const policy = new SquashedGaussianPolicy(Mlp.initialised([observationSize, 6, 2 * actionSize], setup));
  const observations = Float64Array.from({ length: batch * observationSize }, () => 2 * setup.nextFloat() - 1);
  const actionWeights = Float64Array.from({ length: batch * actionSize }, () => 2 * setup.nextFloat() - 1);
  const alpha = 0.7;

  /** An actor-style loss, mean(α logπ − c·a), with the sampling noise fixed by a fresh seed. */
  function loss(): number {
    const { actions, logProbabilities } = policy.sampleBatch(observations, batch, createSeededRandom(99));
    let total = 0;
    for (let b = 0; b < batch; b++) {
      total += alpha * logProbabilities[b]!;
      for (let k = 0; k < actionSize; k++) total -= actionWeights[b * actionSize + k]! * actions[b * actionSize + k]!;
    }
    return total / batch;
  }

  it('reparameterised gradients of actions and log-probabilities match finite differences', () => {
    const network = policy.network;
    network.zeroGradients();
    loss();
    policy.backward(
      actionWeights.map((weight) => -weight / batch),
      new Float64Array(batch).fill(alpha / batch),
    );
    const analytic = Float64Array.from(network.gradients);
    const step = 1e-6;
    for (let i = 0; i < network.parameters.length; i++) {
      const saved = network.parameters[i]!;
      network.parameters[i] = saved + step;
      const plus = loss();
      network.parameters[i] = saved - step;
      const minus = loss();
      network.parameters[i] = saved;
      expect(analytic[i]).toBeCloseTo((plus - minus) / (2 * step), 5);
    }
  });

  it('samples stay inside (-1, 1) and the deterministic action is tanh of the mean', () => {
    const { actions } = policy.sampleBatch(observations, batch, createSeededRandom(1));
    for (const value of actions) expect(Math.abs(value)).toBeLessThan(1);
    const first = observations.subarray(0, observationSize);
    const mean = Float64Array.from(policy.network.forward(first, 1)).subarray(0, actionSize);
    expect(Array.from(policy.deterministicAction(first))).toEqual(Array.from(mean).map(Math.tanh));
  });
});

function fixedBatch(size: number, observationSize: number, actionSize: number, seed: number): TransitionBatch {
  const random = createSeededRandom(seed);
  const batch = allocateBatch(size, observationSize, actionSize);
  for (const values of [batch.observations, batch.nextObservations, batch.actions]) {
    for (let i = 0; i < values.length; i++) values[i] = 2 * random.nextFloat() - 1;
  }
  for (let b = 0; b < size; b++) {
    batch.rewards[b] = batch.actions[b * actionSize]! - batch.observations[b * observationSize]!;
    batch.terminals[b] = b % 7 === 0 ? 1 : 0;
  }
  return batch;
}

describe('SacAgent', () => {
  const settings = { learningRate: 3e-3, gamma: 0.9, tau: 0.05, hiddenLayers: [16, 16], initialEntropyCoefficient: 1 };

  it('updates reduce the critic loss on a fixed batch', () => {
    // With γ = 0 the TD target is the reward itself, so the targets hold still while the actor
    // and α change, and the critic loss must fall as the critics regress onto them.
    const agent = new SacAgent(4, 2, { ...settings, gamma: 0 }, createSeededRandom(4));
    const batch = fixedBatch(32, 4, 2, 8);
    const targets = agent.criticTargets(batch, agent.entropyCoefficient);
    expect(Array.from(targets)).toEqual(Array.from(batch.rewards));
    const before = agent.criticLoss(batch, targets);
    const reported: number[] = [];
    for (let i = 0; i < 200; i++) reported.push(agent.update(batch).criticLoss);
    expect(agent.criticLoss(batch, targets)).toBeLessThan(before * 0.1);
    expect(reported[reported.length - 1]!).toBeLessThan(reported[0]! * 0.1);
  });

  it('bootstrapped targets follow y = r + γ(1 − terminal)(min Q′ − α logπ)', () => {
    const agent = new SacAgent(4, 2, settings, createSeededRandom(4));
    const batch = fixedBatch(8, 4, 2, 8);
    const targets = agent.criticTargets(batch, 0.5);
    // Terminal rows (every 7th) do not bootstrap; the others differ from the reward.
    expect(targets[0]).toBe(batch.rewards[0]);
    expect(targets[7]).toBe(batch.rewards[7]);
    expect(targets[1]).not.toBe(batch.rewards[1]);
  });

  it('target networks trail the online critics by polyak averaging', () => {
    const agent = new SacAgent(4, 2, settings, createSeededRandom(4));
    const batch = fixedBatch(16, 4, 2, 8);
    agent.update(batch);
    const online = agent.q1.parameters;
    const target = agent.q1Target.parameters;
    const distance = online.reduce((sum, value, i) => sum + Math.abs(value - target[i]!), 0);
    expect(distance).toBeGreaterThan(0);
    const before = Float64Array.from(target);
    agent.update(batch);
    // θ' ← τθ + (1−τ)θ': the target moved, but only a fraction of the gap.
    const moved = target.reduce((sum, value, i) => sum + Math.abs(value - before[i]!), 0);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(distance);
  });

  it('the entropy coefficient falls while the policy is more random than the target entropy', () => {
    const agent = new SacAgent(4, 2, settings, createSeededRandom(4));
    const batch = fixedBatch(16, 4, 2, 8);
    // A fresh policy (σ ≈ e^-1.5 per dimension) has more entropy than the target −|A|, so the
    // entropy bonus is not needed and α must shrink.
    const start = agent.entropyCoefficient;
    for (let i = 0; i < 20; i++) agent.update(batch);
    expect(agent.entropyCoefficient).toBeLessThan(start);
  });
});
