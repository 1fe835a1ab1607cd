/**
 * SAC really learns LapSim-v1: after 10k steps the deterministic policy must make far more
 * progress around the track than a uniformly random driver, who wobbles off within a few dozen
 * metres or stalls. A broken gradient, target or entropy term leaves the policy near random.
 */
import { report, trainAndCompareWithRandom } from './learning-support';

it('SAC on LapSim-v1 beats a random policy by a clear margin', async () => {
  const measurement = await trainAndCompareWithRandom({
    algorithm: 'SAC',
    environment: 'LapSim-v1',
    total_timesteps: 10_000,
    seed: 1,
    evaluation_episodes: 10,
    hyperparameters: { learning_rate: 1e-3, batch_size: 64, net_arch: [32, 32], learning_starts: 1000, tau: 0.01 },
  });
  report('SAC LapSim-v1', measurement);
  // Reward is 0.1 per metre of progress: the gap is at least 100 m per episode, and at least 3x.
  expect(measurement.trainedMeanReturn - measurement.randomMeanReturn).toBeGreaterThanOrEqual(10);
  expect(measurement.trainedMeanReturn).toBeGreaterThanOrEqual(3 * measurement.randomMeanReturn);
}, 180_000);
