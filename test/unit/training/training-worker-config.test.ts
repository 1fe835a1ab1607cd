import { ConfigError, loadConfig } from '../../../src/infrastructure/config/config';
import { builtInTrainerCommand, progressIntervalFor, trainerCommandFor, trainerEnvironment } from '../../../src/workers/training/trainer-command';

describe('training configuration', () => {
  it('reads TRAINING_EXTERNAL_TRAINERS as JSON checked against the external trainer schema', () => {
    const trainers = { 'AssettoCorsaEnv-v1': { command: ['python3', 'trainer.py'], algorithms: ['SAC'] } };
    expect(loadConfig({ TRAINING_EXTERNAL_TRAINERS: JSON.stringify(trainers) }).TRAINING_EXTERNAL_TRAINERS).toEqual(trainers);
    expect(loadConfig({}).TRAINING_EXTERNAL_TRAINERS).toEqual({});
    expect(loadConfig({})).toMatchObject({
      TRAINING_MAX_CONCURRENT_JOBS: 1,
      TRAINING_PROGRESS_INTERVAL_MS: 1000,
      TRAINING_SUPERVISOR_INTERVAL_SEC: 15,
      TRAINING_STALE_AFTER_SEC: 60,
      TRAINING_MAX_ATTEMPTS: 3,
    });
    for (const bad of ['not json', '{"X": {"command": [], "algorithms": ["SAC"]}}', '{"X": {"command": ["a"]}}']) {
      expect(() => loadConfig({ TRAINING_EXTERNAL_TRAINERS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ TRAINING_EXTERNAL_TRAINERS: bad })).toThrow(/TRAINING_EXTERNAL_TRAINERS/);
    }
  });
});

describe('trainer command', () => {
  const external = { 'AssettoCorsaEnv-v1': { command: ['python3', 'trainer.py', '--fast'], algorithms: ['SAC', 'PPO'] } };

  it('runs the built-in trainer from this source tree (ts-node here, the .js beside it when compiled)', () => {
    const command = builtInTrainerCommand();
    expect(command[0]).toBe(process.execPath);
    expect(command[command.length - 1]).toMatch(/src\/workers\/training\/trainer-process\.ts$/);
    expect(trainerCommandFor({ runner: 'built_in', environment: 'pong', algorithm: 'DQN' }, external)).toEqual({ command });
  });

  it('runs the configured external command, or says why it cannot', () => {
    expect(trainerCommandFor({ runner: 'external', environment: 'AssettoCorsaEnv-v1', algorithm: 'ppo' }, external)).toEqual({
      command: ['python3', 'trainer.py', '--fast'],
    });
    expect(trainerCommandFor({ runner: 'external', environment: 'AssettoCorsaEnv-v1', algorithm: 'TD3' }, external)).toEqual({
      problem: 'the external trainer for AssettoCorsaEnv-v1 does not offer TD3 (it offers SAC, PPO)',
    });
    expect(trainerCommandFor({ runner: 'external', environment: 'rFactor', algorithm: 'SAC' }, external)).toEqual({
      problem: 'no external trainer is configured for rFactor on this worker (TRAINING_EXTERNAL_TRAINERS)',
    });
  });

  it("passes the basics and TRAINER_* to trainers, never the server's secrets", () => {
    expect(
      trainerEnvironment({ PATH: '/bin', HOME: '/home/x', JWT_SECRET: 's', DATABASE_URL: 'postgres://u:p@h/db', TRAINER_GPU: '1', PYTHONPATH: '/py' }),
    ).toEqual({ PATH: '/bin', HOME: '/home/x', TRAINER_GPU: '1', PYTHONPATH: '/py' });
  });

  it('asks for progress lines every 1 % of the run, between 10 and 1000 steps', () => {
    expect([5, 1500, 50_000, 5_000_000].map(progressIntervalFor)).toEqual([10, 15, 500, 1000]);
  });
});
