import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TrainerLine, trainerLineSchema } from '../../../src/domain/training/trainer-protocol';
import { loadPolicy, parsePolicyArtifact } from '../../../src/ml/policy-artifact';
import { artifactFileName, runTrainerProcess } from '../../../src/workers/training/trainer-process';
import { compileTrainerProcess, startTrainer } from './child-process-support';

const quickSacHyperparameters = { learning_starts: 300, batch_size: 32, net_arch: [16, 16] };

function sacJob(artifactDir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    job_id: 'job-sac',
    algorithm: 'SAC',
    environment: 'LapSim-v1',
    total_timesteps: 1000,
    seed: 4,
    artifact_dir: artifactDir,
    progress_interval_timesteps: 200,
    evaluation_episodes: 2,
    hyperparameters: quickSacHyperparameters,
    ...overrides,
  };
}

async function runInProcess(spec: unknown, stopAfterLines = Infinity): Promise<{ code: number; lines: TrainerLine[] }> {
  const lines: TrainerLine[] = [];
  let stop: () => void = () => undefined;
  const code = await runTrainerProcess({
    args: [JSON.stringify(spec)],
    readStdin: () => Promise.reject(new Error('no stdin in this test')),
    writeLine: (line) => {
      lines.push(trainerLineSchema.parse(line));
      if (lines.length >= stopAfterLines) stop();
    },
    onStopRequest: (handler) => {
      stop = handler;
    },
    now: () => performance.now(),
  });
  return { code, lines };
}

describe('trainer process (in-process)', () => {
  const artifactDir = mkdtempSync(join(tmpdir(), 'trainer-artifacts-'));
  afterAll(() => rmSync(artifactDir, { recursive: true, force: true }));

  it('reports progress, writes the artefact and ends with a completed line', async () => {
    const { code, lines } = await runInProcess(sacJob(artifactDir));
    expect(code).toBe(0);
    const progress = lines.filter((line) => line.type === 'progress');
    expect(progress.map((line) => line.timestep)).toEqual([200, 400, 600, 800, 1000]);
    // No gradient step happens before learning_starts, so there is no loss to report yet.
    expect(progress[0]!.loss).toBeNull();
    expect(progress[4]!.loss).toEqual(expect.any(Number));
    expect(progress.every((line) => line.fps > 0 && line.total_timesteps === 1000)).toBe(true);
    const last = lines[lines.length - 1]!;
    expect(last).toMatchObject({ type: 'completed', timestep: 1000, artifact_path: join(artifactDir, 'policy-job-sac.json') });
    const artifact = parsePolicyArtifact(readFileSync(join(artifactDir, artifactFileName('job-sac')), 'utf8'));
    expect(artifact).toMatchObject({ algorithm: 'SAC', environment: 'LapSim-v1', action: { kind: 'continuous', size: 2 } });
    expect(last.type === 'completed' && last.mean_return).toBe(artifact.training.evaluation!.mean_return);
    expect(loadPolicy(artifact).kind).toBe('continuous');
  });

  it('is deterministic: the same job spec and seed give the same policy', async () => {
    await runInProcess(sacJob(artifactDir, { job_id: 'again-1' }));
    await runInProcess(sacJob(artifactDir, { job_id: 'again-2' }));
    await runInProcess(sacJob(artifactDir, { job_id: 'other-seed', seed: 5 }));
    const parameters = (id: string): string =>
      parsePolicyArtifact(readFileSync(join(artifactDir, artifactFileName(id)), 'utf8')).network.parameters_base64;
    expect(parameters('again-1')).toBe(parameters('again-2'));
    expect(parameters('other-seed')).not.toBe(parameters('again-1'));
  });

  it('stops cleanly with a cancelled line when asked to, writing no artefact', async () => {
    const { code, lines } = await runInProcess(sacJob(artifactDir, { job_id: 'cancel-me', total_timesteps: 100_000 }), 2);
    expect(code).toBe(0);
    expect(lines[lines.length - 1]).toEqual({ type: 'cancelled', timestep: 400 });
    expect(existsSync(join(artifactDir, artifactFileName('cancel-me')))).toBe(false);
  });

  it('fails with the known names for an unknown environment or algorithm', async () => {
    const unknownEnvironment = await runInProcess(sacJob(artifactDir, { environment: 'AssettoCorsaEnv-v1' }));
    expect(unknownEnvironment.code).toBe(1);
    expect(unknownEnvironment.lines).toEqual([
      { type: 'failed', reason: 'unknown environment "AssettoCorsaEnv-v1"; known environments: LapSim-v1, pong' },
    ]);
    const unknownAlgorithm = await runInProcess(sacJob(artifactDir, { algorithm: 'PPO' }));
    expect(unknownAlgorithm.lines[0]).toMatchObject({ type: 'failed', reason: expect.stringMatching(/known algorithms: SAC/) });
  });

  it('fails with exit code 2 on a spec that is not a job spec', async () => {
    const { code, lines } = await runInProcess({ job_id: 'x', algorithm: 'SAC' });
    expect(code).toBe(2);
    expect(lines).toEqual([{ type: 'failed', reason: expect.stringMatching(/^invalid job spec: .*environment/s) }]);
  });

  it('fails on invalid hyperparameters, naming them', async () => {
    const { lines } = await runInProcess(sacJob(artifactDir, { hyperparameters: { gamma: 1.5 } }));
    expect(lines[0]).toMatchObject({ type: 'failed', reason: expect.stringMatching(/gamma/) });
  });
});

describe('trainer process (compiled, as a child process)', () => {
  let trainerScript: string;
  let buildDir: string | undefined;
  const artifactDir = mkdtempSync(join(tmpdir(), 'trainer-child-artifacts-'));

  beforeAll(async () => {
    const compiled = await compileTrainerProcess();
    trainerScript = compiled.script;
    buildDir = compiled.outDir;
  }, 120_000);
  afterAll(() => {
    for (const directory of [artifactDir, buildDir]) if (directory) rmSync(directory, { recursive: true, force: true });
  });

  // The compiled files live outside the repository, so node finds zod through NODE_PATH.
  const nodePath = { NODE_PATH: join(__dirname, '../../../node_modules') };

  it('trains pong with DQN from a spec on stdin and writes the artefact', async () => {
    const job = {
      job_id: 'child-dqn',
      algorithm: 'DQN',
      environment: 'pong',
      environment_options: { target_score: 1 },
      total_timesteps: 1500,
      seed: 2,
      artifact_dir: artifactDir,
      progress_interval_timesteps: 500,
      evaluation_episodes: 2,
      hyperparameters: { learning_starts: 500, net_arch: [16] },
    };
    const trainer = startTrainer(process.execPath, [trainerScript], job, nodePath);
    const { code } = await trainer.exited;
    expect(trainer.stderr()).toBe('');
    expect(code).toBe(0);
    expect(trainer.strayLines).toEqual([]);
    expect(trainer.lines.map((line) => line.type)).toEqual(['progress', 'progress', 'progress', 'completed']);
    const completed = trainer.lines[3]!;
    expect(completed.type === 'completed' && completed.artifact_path).toBe(join(artifactDir, 'policy-child-dqn.json'));
    const artifact = parsePolicyArtifact(readFileSync(join(artifactDir, 'policy-child-dqn.json'), 'utf8'));
    expect(artifact.action).toEqual({ kind: 'discrete', count: 3, head: 'q_values' });
  }, 60_000);

  it('SIGTERM cancels a running job: a cancelled line, exit code 0, no artefact', async () => {
    const job = sacJob(artifactDir, { job_id: 'child-cancel', total_timesteps: 10_000_000, progress_interval_timesteps: 100 });
    const trainer = startTrainer(process.execPath, [trainerScript], job, nodePath);
    await trainer.waitForLine((line) => line.type === 'progress' && line.timestep >= 500);
    trainer.child.kill('SIGTERM');
    const { code, signal } = await trainer.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const last = trainer.lines[trainer.lines.length - 1]!;
    expect(last.type).toBe('cancelled');
    expect(last.type === 'cancelled' && last.timestep).toBeGreaterThanOrEqual(500);
    expect(existsSync(join(artifactDir, 'policy-child-cancel.json'))).toBe(false);
  }, 60_000);
});
