import { LapSimEnvironment } from '../../../src/domain/training/lapsim-env';
import { PongTrainingEnvironment } from '../../../src/domain/training/pong-training-env';
import { createSeededRandom } from '../../../src/domain/training/seeded-random';
import { DqnAgent } from '../../../src/ml/dqn';
import { decodeParameters, describeNetwork, encodeParameters, loadPolicy, type PolicyArtifact } from '../../../src/ml/policy-artifact';
import { SacAgent } from '../../../src/ml/sac';

const training: PolicyArtifact['training'] = {
  job_id: 'job-1',
  seed: 1,
  total_timesteps: 10,
  trained_timesteps: 10,
  hyperparameters: {},
  environment_options: {},
  evaluation: null,
};

function sacArtifact(agent: SacAgent): PolicyArtifact {
  return {
    format: 'lapxcel-policy',
    version: 1,
    algorithm: 'SAC',
    environment: 'LapSim-v1',
    observation_size: agent.observationSize,
    action: { kind: 'continuous', size: agent.actionSize, head: 'tanh_gaussian' },
    network: describeNetwork(agent.policy.network),
    training,
  };
}

describe('policy artefacts', () => {
  it('float64 parameters survive base64 exactly, including awkward values', () => {
    const values = Float64Array.of(0, -0, 1 / 3, -1e-300, 1e300, Math.PI);
    expect(Array.from(decodeParameters(encodeParameters(values)))).toEqual(Array.from(values));
  });

  it('a SAC policy saved to JSON and loaded acts exactly like the live deterministic policy', () => {
    const environment = new LapSimEnvironment();
    const agent = new SacAgent(environment.observationSize, 2, { learningRate: 1e-3, gamma: 0.99, tau: 0.005, hiddenLayers: [8, 8], initialEntropyCoefficient: 1 }, createSeededRandom(3));
    const loaded = loadPolicy(JSON.stringify(sacArtifact(agent)));
    expect(loaded.kind).toBe('continuous');
    let observation = environment.reset(1);
    for (let step = 0; step < 30; step++) {
      const live = agent.policy.deterministicAction(observation);
      const saved = loaded.kind === 'continuous' ? loaded.act(observation) : undefined;
      expect(Array.from(saved!)).toEqual(Array.from(live));
      const result = environment.step(live);
      if (result.done) break;
      observation = result.observation;
    }
  });

  it('a DQN policy saved to JSON and loaded picks exactly the live greedy actions', () => {
    const environment = new PongTrainingEnvironment();
    const agent = new DqnAgent(6, 3, { learningRate: 1e-3, gamma: 0.99, tau: 1, hiddenLayers: [16, 16], maxGradientNorm: 10 }, createSeededRandom(9));
    const artifact: PolicyArtifact = {
      format: 'lapxcel-policy',
      version: 1,
      training,
      algorithm: 'DQN',
      environment: 'pong',
      observation_size: 6,
      action: { kind: 'discrete', count: 3, head: 'q_values' },
      network: describeNetwork(agent.q),
    };
    const loaded = loadPolicy(JSON.parse(JSON.stringify(artifact)));
    let observation = environment.reset(2);
    for (let step = 0; step < 300; step++) {
      const live = agent.greedyAction(observation);
      expect(loaded.kind === 'discrete' ? loaded.act(observation) : undefined).toBe(live);
      const result = environment.step(live);
      observation = result.done ? environment.reset(step) : result.observation;
    }
  });

  it('rejects artefacts that are malformed or whose network does not fit', () => {
    const agent = new SacAgent(3, 1, { learningRate: 1e-3, gamma: 0.99, tau: 0.005, hiddenLayers: [4], initialEntropyCoefficient: 1 }, createSeededRandom(3));
    const artifact = sacArtifact(agent);
    expect(() => loadPolicy({ ...artifact, format: 'other' })).toThrow();
    expect(() => loadPolicy({ ...artifact, observation_size: 4 })).toThrow(/does not fit/);
    expect(() => loadPolicy({ ...artifact, network: { ...artifact.network, parameters_base64: encodeParameters(new Float64Array(3)) } })).toThrow(/parameters/);
    const policy = loadPolicy(artifact);
    expect(() => (policy.kind === 'continuous' ? policy.act(new Float64Array(2)) : undefined)).toThrow(/observation values/);
  });
});
