import { ValidationError } from '../../../src/domain/shared/errors';
import { algorithmsFor, knownTrainingEnvironments, resolveTrainingJob } from '../../../src/domain/training/catalog';
import { DQN_DEFAULTS, SAC_DEFAULTS, validateHyperparameters } from '../../../src/domain/training/hyperparameters';
import { createTrainingEnvironment } from '../../../src/domain/training/training-environments';

const external = { 'AssettoCorsaEnv-v1': { command: ['python3', 'trainer.py'], algorithms: ['SAC', 'PPO'] } };

function validationMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

describe('hyperparameter validation', () => {
  it('fills SB3-style defaults for what a request leaves out', () => {
    expect(validateHyperparameters('SAC', { learning_rate: 0.001 }).hyperparameters).toEqual({ ...SAC_DEFAULTS, learning_rate: 0.001 });
    expect(validateHyperparameters('DQN').hyperparameters).toEqual(DQN_DEFAULTS);
  });

  it.each([
    ['learning_rate', 0, /learning_rate/],
    ['learning_rate', 1.5, /learning_rate/],
    ['gamma', -0.1, /gamma/],
    ['gamma', 1.01, /gamma/],
    ['tau', 0, /tau/],
    ['tau', 2, /tau/],
    ['buffer_size', 0, /buffer_size/],
    ['buffer_size', 10.5, /buffer_size/],
    ['batch_size', -1, /batch_size/],
    ['net_arch', [], /net_arch/],
  ])('rejects %s = %j', (name, value, pattern) => {
    expect(validationMessage(() => validateHyperparameters('SAC', { [name]: value }))).toMatch(pattern);
  });

  it('accepts the boundaries of the documented ranges', () => {
    expect(() => validateHyperparameters('SAC', { learning_rate: 1, gamma: 0, tau: 1 })).not.toThrow();
    expect(() => validateHyperparameters('DQN', { gamma: 1, tau: 0.001 })).not.toThrow();
  });

  it('rejects a batch larger than the buffer', () => {
    expect(validationMessage(() => validateHyperparameters('SAC', { buffer_size: 100, batch_size: 256 }))).toMatch(
      /batch_size must not exceed buffer_size/,
    );
  });

  it('rejects unknown hyperparameters and names the known ones', () => {
    const message = validationMessage(() => validateHyperparameters('DQN', { learning_rat: 0.1 }));
    expect(message).toMatch(/unknown hyperparameter\(s\) learning_rat/);
    expect(message).toMatch(/known: learning_rate, buffer_size, batch_size, gamma, tau/);
  });
});

describe('training job resolution', () => {
  it('runs built-in environments with built-in algorithms in-house, case-insensitively', () => {
    const job = resolveTrainingJob({ algorithm: 'sac', environment: 'LapSim-v1', total_timesteps: 1000 });
    expect(job).toMatchObject({ runner: 'built_in', algorithm: 'SAC', environment: 'LapSim-v1', totalTimesteps: 1000 });
    expect(resolveTrainingJob({ algorithm: 'DQN', environment: 'pong', total_timesteps: 5 }).runner).toBe('built_in');
  });

  it('names the known environments for an unknown one, including configured external ones', () => {
    const message = validationMessage(() => resolveTrainingJob({ algorithm: 'SAC', environment: 'Monza', total_timesteps: 1 }, external));
    expect(message).toBe('unknown environment "Monza"; known environments: LapSim-v1, pong, AssettoCorsaEnv-v1');
    expect(knownTrainingEnvironments()).toEqual(['LapSim-v1', 'pong']);
  });

  it('names the known algorithms for an environment', () => {
    expect(validationMessage(() => resolveTrainingJob({ algorithm: 'PPO', environment: 'LapSim-v1', total_timesteps: 1 }))).toBe(
      'unknown algorithm "PPO" for LapSim-v1; known algorithms: SAC',
    );
    expect(algorithmsFor('AssettoCorsaEnv-v1', external)).toEqual(['SAC', 'PPO']);
  });

  it('hands external environments to their trainer with validated hyperparameters', () => {
    const job = resolveTrainingJob(
      { algorithm: 'SAC', environment: 'AssettoCorsaEnv-v1', total_timesteps: 1_000_000, hyperparameters: { batch_size: 128 } },
      external,
    );
    expect(job).toMatchObject({ runner: 'external', command: ['python3', 'trainer.py'], algorithm: 'SAC' });
    expect(job.hyperparameters).toEqual({ ...SAC_DEFAULTS, batch_size: 128 });
    const ppo = resolveTrainingJob(
      { algorithm: 'PPO', environment: 'AssettoCorsaEnv-v1', total_timesteps: 10, hyperparameters: { n_steps: 2048 } },
      external,
    );
    expect(ppo.hyperparameters).toEqual({ n_steps: 2048 });
    expect(() =>
      resolveTrainingJob({ algorithm: 'PPO', environment: 'AssettoCorsaEnv-v1', total_timesteps: 10, hyperparameters: { gamma: 2 } }, external),
    ).toThrow(ValidationError);
  });

  it('rejects malformed requests', () => {
    expect(validationMessage(() => resolveTrainingJob({ algorithm: 'SAC', environment: 'LapSim-v1', total_timesteps: 0 }))).toMatch(
      /total_timesteps/,
    );
    expect(() => resolveTrainingJob({ environment: 'LapSim-v1' })).toThrow(ValidationError);
  });

  it('rejects unknown environment options', () => {
    expect(() => createTrainingEnvironment('LapSim-v1', { laps: 2 })).toThrow(ValidationError);
    expect(() => createTrainingEnvironment('pong', { target_score: 0 })).toThrow(ValidationError);
    expect(createTrainingEnvironment('pong', { target_score: 2 }).id).toBe('pong');
  });
});

describe('runner environments', () => {
  const runners = { 'AssettoCorsaEnv-v1': ['SAC', 'PPO'], 'LapSim-v1': ['PPO'] };
  const example = {
    algorithm: 'SAC',
    environment: 'AssettoCorsaEnv-v1',
    total_timesteps: 1000000,
    hyperparameters: { learning_rate: 0.0003, buffer_size: 1000000, batch_size: 256 },
  };

  it("make the document's example a remote job when the server has no trainer for it", () => {
    const job = resolveTrainingJob(example, {}, runners);
    expect(job).toMatchObject({ runner: 'remote', algorithm: 'SAC', environment: 'AssettoCorsaEnv-v1', totalTimesteps: 1000000 });
    expect(job.hyperparameters).toEqual({ ...SAC_DEFAULTS, learning_rate: 0.0003, buffer_size: 1000000, batch_size: 256 });
    expect(knownTrainingEnvironments({}, runners)).toEqual(['LapSim-v1', 'pong', 'AssettoCorsaEnv-v1']);
  });

  it('leave the environment to a server-side external trainer when one is configured', () => {
    expect(resolveTrainingJob(example, external, runners).runner).toBe('external');
    expect(algorithmsFor('AssettoCorsaEnv-v1', external, runners)).toEqual(['SAC', 'PPO']);
  });

  it('validate as strictly as other jobs and never take over built-in environments', () => {
    expect(validationMessage(() => resolveTrainingJob({ ...example, hyperparameters: { gamma: 2 } }, {}, runners))).toMatch(/invalid SAC hyperparameters/);
    expect(validationMessage(() => resolveTrainingJob({ ...example, algorithm: 'TD3' }, {}, runners))).toBe(
      'unknown algorithm "TD3" for AssettoCorsaEnv-v1; known algorithms: SAC, PPO',
    );
    expect(validationMessage(() => resolveTrainingJob({ ...example, environment: 'LapSim-v1', algorithm: 'PPO' }, {}, runners))).toMatch(/known algorithms: SAC$/);
    expect(validationMessage(() => resolveTrainingJob(example))).toMatch(/unknown environment/);
  });
});
