import { DQN_DEFAULTS, explorationRate } from '../../../src/domain/training/hyperparameters';
import { createSeededRandom } from '../../../src/domain/training/seeded-random';
import { DqnAgent } from '../../../src/ml/dqn';
import { allocateBatch } from '../../../src/ml/replay-buffer';

const settings = { learningRate: 3e-3, gamma: 0, tau: 1, hiddenLayers: [16], maxGradientNorm: 10 };

describe('DqnAgent', () => {
  it('regresses Q(s, a) onto the rewards when γ = 0, and acts greedily on what it learned', () => {
    const agent = new DqnAgent(2, 3, settings, createSeededRandom(2));
    const random = createSeededRandom(6);
    const batch = allocateBatch(60, 2, 1);
    // Action 2 pays +1 and the others −1 whatever the state, so the greedy action must become 2.
    for (let b = 0; b < 60; b++) {
      batch.observations[2 * b] = random.nextFloat();
      batch.observations[2 * b + 1] = random.nextFloat();
      batch.actions[b] = b % 3;
      batch.rewards[b] = b % 3 === 2 ? 1 : -1;
    }
    const first = agent.update(batch);
    let last = first;
    for (let i = 0; i < 300; i++) last = agent.update(batch);
    expect(last).toBeLessThan(first * 0.05);
    expect(agent.greedyAction(Float64Array.of(0.3, 0.7))).toBe(2);
  });

  it('a target update with τ = 1 copies the online network', () => {
    const agent = new DqnAgent(2, 3, settings, createSeededRandom(2));
    agent.q.parameters[0] += 1;
    expect(agent.qTarget.parameters[0]).not.toBe(agent.q.parameters[0]);
    agent.updateTarget();
    expect(Array.from(agent.qTarget.parameters)).toEqual(Array.from(agent.q.parameters));
  });

  it('explores uniformly at ε = 1 and never at ε = 0', () => {
    const agent = new DqnAgent(2, 3, settings, createSeededRandom(2));
    const observation = Float64Array.of(0.1, 0.2);
    const greedy = agent.greedyAction(observation);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[agent.explore(observation, 1)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(850);
    for (let i = 0; i < 50; i++) expect(agent.explore(observation, 0)).toBe(greedy);
  });
});

describe('ε schedule', () => {
  const hyperparameters = { ...DQN_DEFAULTS, exploration_fraction: 0.5, exploration_initial_eps: 1, exploration_final_eps: 0.1 };
  it('falls linearly over exploration_fraction of the run, then stays at the final value', () => {
    expect(explorationRate(hyperparameters, 0, 1000)).toBe(1);
    expect(explorationRate(hyperparameters, 250, 1000)).toBeCloseTo(0.55, 12);
    expect(explorationRate(hyperparameters, 500, 1000)).toBe(0.1);
    expect(explorationRate(hyperparameters, 900, 1000)).toBe(0.1);
  });
});
