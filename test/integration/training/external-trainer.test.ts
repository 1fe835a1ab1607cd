/** The Python example of an external trainer speaks the same protocol as the built-in one. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '../../../src/ml/policy-artifact';
import { REPOSITORY_ROOT, startTrainer } from './child-process-support';

const script = join(REPOSITORY_ROOT, 'runtime/python/external_trainer_example.py');
const artifactDir = mkdtempSync(join(tmpdir(), 'external-trainer-'));
afterAll(() => rmSync(artifactDir, { recursive: true, force: true }));

const job = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  job_id: 'external-1',
  algorithm: 'SAC',
  environment: 'AssettoCorsaEnv-v1',
  total_timesteps: 30_000,
  seed: 3,
  artifact_dir: artifactDir,
  progress_interval_timesteps: 5000,
  ...overrides,
});

it('trains, reports progress and writes a loadable lapxcel-policy artefact', async () => {
  const trainer = startTrainer('python3', [script], job({}));
  const { code } = await trainer.exited;
  expect(trainer.stderr()).toBe('');
  expect(code).toBe(0);
  expect(trainer.strayLines).toEqual([]);
  const progress = trainer.lines.filter((line) => line.type === 'progress');
  expect(progress.length).toBeGreaterThanOrEqual(5);
  const completed = trainer.lines[trainer.lines.length - 1]!;
  if (completed.type !== 'completed') throw new Error(`expected completed, got ${JSON.stringify(completed)}`);
  // Random search improves the lane keeping: the final policy beats the first rollouts' mean.
  expect(completed.mean_return!).toBeGreaterThan(progress[0]!.episode_reward! + 20);
  const policy = loadPolicy(readFileSync(completed.artifact_path, 'utf8'));
  expect(policy.kind).toBe('continuous');
  // Off centre to the left (positive offset): a trained lane keeper steers right (negative).
  expect(policy.kind === 'continuous' && policy.act(Float64Array.of(0.5, 0))[0]).toBeLessThan(0);
}, 60_000);

it('SIGTERM cancels it with a cancelled line', async () => {
  const trainer = startTrainer('python3', [script], job({ job_id: 'external-cancel', total_timesteps: 100_000_000 }));
  await trainer.waitForLine((line) => line.type === 'progress');
  trainer.child.kill('SIGTERM');
  const { code } = await trainer.exited;
  expect(code).toBe(0);
  expect(trainer.lines[trainer.lines.length - 1]!.type).toBe('cancelled');
}, 60_000);

it('a spec without the required fields fails with exit code 2', async () => {
  const trainer = startTrainer('python3', [script], { job_id: 'x' });
  const { code } = await trainer.exited;
  expect(code).toBe(2);
  expect(trainer.lines).toEqual([{ type: 'failed', reason: expect.stringMatching(/invalid job spec/) }]);
}, 60_000);
