/**
 * DQN really learns pong against the scripted opponent. A reduced game (first to 3 points
 * instead of 5) keeps episodes short enough for a 40k-step budget; the rules, observation and
 * opponent are the full environment's. Return is points won minus points lost, in [-3, 3].
 */
import { report, trainAndCompareWithRandom } from './learning-support';

it('DQN on pong beats a random policy by a clear margin', async () => {
  const measurement = await trainAndCompareWithRandom({
    algorithm: 'DQN',
    environment: 'pong',
    environment_options: { target_score: 3 },
    total_timesteps: 40_000,
    seed: 1,
    evaluation_episodes: 10,
    hyperparameters: {
      learning_rate: 1e-3,
      batch_size: 64,
      buffer_size: 50_000,
      learning_starts: 1000,
      train_freq: 1,
      target_update_interval: 500,
      exploration_fraction: 0.3,
      exploration_final_eps: 0.02,
      net_arch: [32, 32],
    },
  });
  report('DQN pong', measurement);
  // Random loses nearly every point (about -3 per game); the learner must win at least two
  // points more per game on average, i.e. it must return the ball and score.
  expect(measurement.trainedMeanReturn - measurement.randomMeanReturn).toBeGreaterThanOrEqual(2);
  expect(measurement.trainedMeanReturn).toBeGreaterThan(-1);
}, 180_000);
