/**
 * The training slice end to end: jobs created over HTTP, run by the training worker (the built-in
 * trainer as a child process, and the Python example as an external trainer), progress watched
 * over the training WebSocket, metrics and the artefact read back, and a long job cancelled.
 */
import { parsePolicyArtifact } from '../../src/ml/policy-artifact';
import { startTrainingWorker, type TrainingWorker } from '../../src/workers/training/training-worker';
import type { RunningRole } from '../../src/runtime/background-roles';
import { http, startTestSystem, type TestSystem } from '../support/test-system';
import { connectWebSocket, type WebSocketTestClient } from '../support/ws-client';

let system: TestSystem;
let training: RunningRole & { worker: TrainingWorker };
let token: string;
let socket: WebSocketTestClient;

const EXTERNAL_TRAINERS = {
  'AssettoCorsaEnv-v1': { command: ['python3', 'runtime/python/external_trainer_example.py'], algorithms: ['SAC', 'PPO'] },
};

beforeAll(async () => {
  system = await startTestSystem({
    env: { TRAINING_PROGRESS_INTERVAL_MS: '200', TRAINING_EXTERNAL_TRAINERS: JSON.stringify(EXTERNAL_TRAINERS) },
  });
  training = await startTrainingWorker(system.services, { maxConcurrentJobs: 2 });
  const name = `trainer_${Math.random().toString(36).slice(2, 10)}`;
  const registered = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
  token = String(registered.body.access_token);
  socket = await connectWebSocket(`${system.url.replace('http', 'ws')}/ws/training?token=${token}`);
}, 60_000);

afterAll(async () => {
  socket?.ws.close();
  await training?.stop();
  await system?.stop();
});

const api = (method: string, path: string, body?: unknown) => http(system.url, method, `/api/v1${path}`, { token, body });
const forJob = (jobId: string, type: string) => (message: Record<string, unknown>) => message.job_id === jobId && message.type === type;

async function createAndSubscribe(body: Record<string, unknown>): Promise<string> {
  const created = await api('POST', '/training/jobs', body);
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ algorithm: String(body.algorithm).toUpperCase(), status: 'pending' });
  const jobId = String(created.body.id);
  socket.ws.send(JSON.stringify({ type: 'subscribe', job_id: jobId }));
  expect(await socket.next(forJob(jobId, 'subscribed'))).toMatchObject({ job_id: jobId, total_timesteps: body.total_timesteps });
  return jobId;
}

describe('training over HTTP and WebSocket', () => {
  it('trains a small LapSim SAC job to completion: progress pushed, metrics stored, artefact kept', async () => {
    const jobId = await createAndSubscribe({
      algorithm: 'SAC',
      environment: 'LapSim-v1',
      total_timesteps: 1500,
      seed: 3,
      hyperparameters: { learning_starts: 200, batch_size: 32, net_arch: [16, 16] },
      description: 'e2e',
    });
    const done = await socket.next((m) => m.job_id === jobId && ['training_completed', 'training_failed'].includes(String(m.type)));
    expect(done).toMatchObject({ type: 'training_completed', status: 'completed', progress_percentage: 100, current_timestep: 1500 });

    const progress = socket.messages.filter(forJob(jobId, 'training_progress'));
    expect(progress.length).toBeGreaterThan(0);
    for (const message of progress) {
      expect(message).toEqual(
        expect.objectContaining({
          progress_percentage: expect.any(Number),
          current_timestep: expect.any(Number),
          estimated_time_remaining: expect.any(Number),
        }),
      );
    }
    // The last progress before completion is always recorded.
    expect(progress[progress.length - 1]).toMatchObject({ current_timestep: 1500, progress_percentage: 100, estimated_time_remaining: 0 });

    const job = await api('GET', `/training/jobs/${jobId}`);
    expect(job.body).toMatchObject({ status: 'completed', progress_percentage: 100, current_timestep: 1500, artifact_available: true, attempt: 1, seed: 3 });
    expect(job.body.mean_return).toEqual(expect.any(Number));

    const metrics = await api('GET', `/training/jobs/${jobId}/metrics`);
    expect(metrics.status).toBe(200);
    const rows = metrics.body.metrics as { timestep: number; fps: number }[];
    expect(rows.length).toBe(metrics.body.total);
    expect(rows.length).toBeGreaterThan(0);
    const timesteps = rows.map((row) => row.timestep);
    expect([...timesteps].sort((a, b) => a - b)).toEqual(timesteps);
    expect(new Set(timesteps).size).toBe(timesteps.length);
    expect(timesteps[timesteps.length - 1]).toBe(1500);

    const artifact = await fetch(`${system.url}/api/v1/training/jobs/${jobId}/artifact`, { headers: { authorization: `Bearer ${token}` } });
    expect(artifact.status).toBe(200);
    const policy = parsePolicyArtifact(await artifact.text());
    expect(policy).toMatchObject({ algorithm: 'SAC', environment: 'LapSim-v1', training: { job_id: jobId, seed: 3, trained_timesteps: 1500 } });
  }, 60_000);

  it('runs an external trainer for an environment the server cannot run itself', async () => {
    const jobId = await createAndSubscribe({ algorithm: 'sac', environment: 'AssettoCorsaEnv-v1', total_timesteps: 5000 });
    const done = await socket.next((m) => m.job_id === jobId && ['training_completed', 'training_failed'].includes(String(m.type)));
    expect(done).toMatchObject({ type: 'training_completed', current_timestep: 5000 });
    const job = await api('GET', `/training/jobs/${jobId}`);
    expect(job.body).toMatchObject({ algorithm: 'SAC', runner: 'external', status: 'completed', artifact_available: true });
  }, 60_000);

  it('cancels a long job: the trainer process is stopped and the job ends cancelled', async () => {
    const jobId = await createAndSubscribe({
      algorithm: 'SAC',
      environment: 'LapSim-v1',
      total_timesteps: 5_000_000,
      hyperparameters: { learning_starts: 100, batch_size: 16, net_arch: [8] },
    });
    await socket.next(forJob(jobId, 'training_progress'));
    const running = training.worker.activeJobs().find((job) => job.jobId === jobId);
    expect(running?.pid).toEqual(expect.any(Number));
    const trainerPid = running!.pid!;
    expect(() => process.kill(trainerPid, 0)).not.toThrow();

    const cancel = await api('POST', `/training/jobs/${jobId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ id: jobId, cancel_requested: true });
    expect(['running', 'cancelled']).toContain(cancel.body.status);

    expect(await socket.next((m) => m.job_id === jobId && String(m.type).startsWith('training_c'))).toMatchObject({
      type: 'training_cancelled',
      status: 'cancelled',
    });
    expect(() => process.kill(trainerPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(training.worker.activeJobs().map((job) => job.jobId)).not.toContain(jobId);
    const job = await api('GET', `/training/jobs/${jobId}`);
    expect(job.body).toMatchObject({ status: 'cancelled', artifact_available: false });
    expect(job.body.current_timestep).toEqual(expect.any(Number));
    expect((await api('POST', `/training/jobs/${jobId}/cancel`)).status).toBe(400);
  }, 60_000);

  it('a worker that shuts down stops its trainers and hands their jobs back; the next worker runs them', async () => {
    const jobId = await createAndSubscribe({
      algorithm: 'SAC',
      environment: 'LapSim-v1',
      total_timesteps: 5_000_000,
      hyperparameters: { learning_starts: 100, batch_size: 16, net_arch: [8] },
    });
    await socket.next(forJob(jobId, 'training_progress'));
    const trainerPid = training.worker.activeJobs().find((job) => job.jobId === jobId)!.pid!;
    await training.stop();
    expect(() => process.kill(trainerPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(await socket.next(forJob(jobId, 'training_requeued'))).toMatchObject({ status: 'pending', attempt: 2, reason: 'the worker running it stopped' });

    training = await startTrainingWorker(system.services);
    expect(await socket.next((m) => forJob(jobId, 'training_started')(m) && m.attempt === 2)).toMatchObject({ status: 'running' });
    expect((await api('POST', `/training/jobs/${jobId}/cancel`)).status).toBe(200);
    expect(await socket.next(forJob(jobId, 'training_cancelled'))).toMatchObject({ status: 'cancelled' });
  }, 60_000);
});
