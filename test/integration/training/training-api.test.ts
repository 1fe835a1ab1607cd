/**
 * The Training API and WebSocket without a training worker: jobs stay pending unless the test
 * plays the worker through the job's commands. Every route: auth, ownership, validation, paging;
 * the read models rebuilt by replay give the same rows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleTrainingJobCommand } from '../../../src/commands/training/training-job-commands';
import { submissionStreamId } from '../../../src/domain/arena/submission';
import type { TrainingJobCommand } from '../../../src/domain/training/training-job';
import { arenaStorage } from '../../../src/infrastructure/artifacts/arena-storage';
import { inspectZip, inflateEntry } from '../../../src/infrastructure/submissions/zip-validator';
import { rebuildProjection } from '../../../src/projections/postgres/projection-rebuild';
import { trainingJobsProjection } from '../../../src/projections/postgres/training/training-jobs-projection';
import { trainingMetricsProjection } from '../../../src/projections/postgres/training/training-metrics-projection';
import { waitForProjection } from '../../../src/projections/postgres/projection-runner';
import { trainingJobStreamId } from '../../../src/domain/training/training-job';
import { runTrainerProcess } from '../../../src/workers/training/trainer-process';
import { http, startTestSystem, type TestSystem } from '../../support/test-system';
import { connectWebSocket } from '../../support/ws-client';

let system: TestSystem;
let alice: string;
let bob: string;
const scratch = mkdtempSync(join(tmpdir(), 'training-api-'));

const EXTERNAL = { 'AssettoCorsaEnv-v1': { command: ['python3', 'trainer.py'], algorithms: ['SAC', 'PPO'] } };

beforeAll(async () => {
  system = await startTestSystem({ env: { TRAINING_EXTERNAL_TRAINERS: JSON.stringify(EXTERNAL) } });
  const register = async (prefix: string) => {
    const name = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
    const res = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
    return String(res.body.access_token);
  };
  alice = await register('alice');
  bob = await register('bob');
}, 60_000);

afterAll(async () => {
  await system?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const api = (token: string | undefined, method: string, path: string, body?: unknown) => http(system.url, method, `/api/v1${path}`, { token, body });
const sacJob = { algorithm: 'SAC', environment: 'LapSim-v1', total_timesteps: 10_000 };
const create = async (token: string, body: Record<string, unknown> = sacJob) => {
  const res = await api(token, 'POST', '/training/jobs', body);
  expect(res.status).toBe(201);
  return String(res.body.id);
};
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/** Plays the worker: the job's commands as a worker would issue them, then waits for the read model. */
async function asWorker(jobId: string, commands: TrainingJobCommand[]): Promise<void> {
  let revision: bigint | null = null;
  for (const command of commands) revision = (await handleTrainingJobCommand({ store: system.services.store, metadata: {} }, jobId, command)).revision;
  for (const projection of [trainingJobsProjection, trainingMetricsProjection]) {
    await waitForProjection(system.services.db, projection.name, trainingJobStreamId(jobId), revision ?? 0n);
  }
}
const now = () => new Date().toISOString();
const claim = (workerId = 'test-worker'): TrainingJobCommand => ({ type: 'StartTraining', workerId, now: now() });
const progress = (timestep: number): TrainingJobCommand => ({
  type: 'RecordTrainingProgress',
  workerId: 'test-worker',
  attempt: 1,
  timestep,
  episodeReward: timestep / 1000,
  episodeLength: 200,
  fps: 1000,
  loss: 0.5,
  estimatedTimeRemainingSec: (10_000 - timestep) / 1000,
  now: now(),
});

describe('POST /training/jobs', () => {
  it('creates a pending job with resolved hyperparameters', async () => {
    const res = await api(alice, 'POST', '/training/jobs', { ...sacJob, algorithm: 'sac', hyperparameters: { learning_rate: 0.001 }, description: 'first' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ algorithm: 'SAC', environment: 'LapSim-v1', status: 'pending', total_timesteps: 10_000 });
    expect(new Date(String(res.body.created_at)).toISOString()).toBe(res.body.created_at);
    const job = await api(alice, 'GET', `/training/jobs/${String(res.body.id)}`);
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({
      status: 'pending',
      description: 'first',
      runner: 'built_in',
      progress_percentage: 0,
      current_timestep: 0,
      attempt: 0,
      artifact_available: false,
      hyperparameters: { learning_rate: 0.001, batch_size: 256, gamma: 0.99, net_arch: [64, 64] },
    });
    expect(job.body.seed).toEqual(expect.any(Number));
  });

  it('answers 400 naming the known environments, algorithms and hyperparameters', async () => {
    const unknownEnvironment = await api(alice, 'POST', '/training/jobs', { ...sacJob, environment: 'Gran-Turismo' });
    expect(unknownEnvironment.status).toBe(400);
    expect(unknownEnvironment.body).toMatchObject({
      detail: 'unknown environment "Gran-Turismo"; known environments: LapSim-v1, pong, AssettoCorsaEnv-v1',
      error_type: 'ValidationError',
      code: 'VALIDATION_ERROR',
      details: { knownEnvironments: ['LapSim-v1', 'pong', 'AssettoCorsaEnv-v1'] },
    });
    const unknownAlgorithm = await api(alice, 'POST', '/training/jobs', { ...sacJob, algorithm: 'PPO' });
    expect(unknownAlgorithm.status).toBe(400);
    expect(unknownAlgorithm.body.detail).toBe('unknown algorithm "PPO" for LapSim-v1; known algorithms: SAC');
    const external = await api(alice, 'POST', '/training/jobs', { ...sacJob, environment: 'AssettoCorsaEnv-v1', algorithm: 'TD3' });
    expect(external.body.detail).toBe('unknown algorithm "TD3" for AssettoCorsaEnv-v1; known algorithms: SAC, PPO');
    const badHyperparameters = await api(alice, 'POST', '/training/jobs', { ...sacJob, hyperparameters: { gamma: 1.5, warp: 9 } });
    expect(badHyperparameters.status).toBe(400);
    expect(badHyperparameters.body.detail).toMatch(/invalid SAC hyperparameters: .*gamma/s);
    const badOptions = await api(alice, 'POST', '/training/jobs', { algorithm: 'DQN', environment: 'pong', total_timesteps: 100, environment_options: { target_score: 50 } });
    expect(badOptions.status).toBe(400);
    expect(badOptions.body.detail).toMatch(/invalid options for pong: .*target_score/s);
    const badBody = await api(alice, 'POST', '/training/jobs', { ...sacJob, total_timesteps: 0 });
    expect(badBody.status).toBe(400);
    expect(badBody.body.details).toMatchObject({ location: 'body', fields: { total_timesteps: expect.any(String) } });
  });

  it('needs a token', async () => {
    expect((await api(undefined, 'POST', '/training/jobs', sacJob)).status).toBe(401);
  });
});

describe('GET /training/jobs', () => {
  it("lists only the caller's jobs, newest first, filtered by status and algorithm, paged", async () => {
    const carol = String(
      (await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: `carol_${Date.now().toString(36)}`, email: `carol${Date.now()}@x.io`, password: 'SecurePass123' } })).body
        .access_token,
    );
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await create(carol));
    const pongJob = await create(carol, { algorithm: 'DQN', environment: 'pong', total_timesteps: 500 });
    await asWorker(ids[0]!, [claim()]);

    const all = await api(carol, 'GET', '/training/jobs');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ total: 4, limit: 50, offset: 0 });
    expect((all.body.jobs as { id: string }[]).map((job) => job.id)).toEqual([pongJob, ids[2], ids[1], ids[0]]);

    const page = await api(carol, 'GET', '/training/jobs?limit=2&offset=1');
    expect(page.body).toMatchObject({ total: 4, limit: 2, offset: 1 });
    expect((page.body.jobs as { id: string }[]).map((job) => job.id)).toEqual([ids[2], ids[1]]);

    const running = await api(carol, 'GET', '/training/jobs?status=running');
    expect((running.body.jobs as { id: string; status: string }[]).map((job) => [job.id, job.status])).toEqual([[ids[0], 'running']]);
    const dqn = await api(carol, 'GET', '/training/jobs?algorithm=dqn');
    expect(dqn.body).toMatchObject({ total: 1, jobs: [{ id: pongJob, algorithm: 'DQN', environment: 'pong' }] });

    expect((await api(bob, 'GET', '/training/jobs?algorithm=DQN')).body.jobs).toEqual([]);
    expect((await api(carol, 'GET', '/training/jobs?limit=101')).status).toBe(400);
    expect((await api(carol, 'GET', '/training/jobs?status=sleeping')).status).toBe(400);
    expect((await api(undefined, 'GET', '/training/jobs')).status).toBe(401);
  });
});

describe('GET /training/jobs/{id} and /metrics', () => {
  it('is for the owner only', async () => {
    const jobId = await create(alice);
    for (const path of [`/training/jobs/${jobId}`, `/training/jobs/${jobId}/metrics`, `/training/jobs/${jobId}/artifact`]) {
      expect((await api(bob, 'GET', path)).status).toBe(403);
      expect((await api(undefined, 'GET', path)).status).toBe(401);
      expect((await api(alice, 'GET', path.replace(jobId, UNKNOWN))).status).toBe(404);
    }
    expect((await api(alice, 'GET', '/training/jobs/not-a-uuid')).status).toBe(404);
  });

  it('pages the metrics of the current run, oldest first', async () => {
    const jobId = await create(alice);
    await asWorker(jobId, [claim(), ...[1000, 2000, 3000, 4000, 5000].map(progress)]);
    const job = await api(alice, 'GET', `/training/jobs/${jobId}`);
    expect(job.body).toMatchObject({ status: 'running', current_timestep: 5000, progress_percentage: 50, estimated_time_remaining: 5, fps: 1000, attempt: 1 });

    const all = await api(alice, 'GET', `/training/jobs/${jobId}/metrics`);
    expect(all.body).toMatchObject({ job_id: jobId, attempt: 1, total: 5, limit: 100, offset: 0 });
    expect((all.body.metrics as unknown[])[0]).toEqual({
      timestep: 1000,
      episode_reward: 1,
      episode_length: 200,
      fps: 1000,
      loss: 0.5,
      progress_percentage: 10,
      recorded_at: expect.any(String),
    });
    const page = await api(alice, 'GET', `/training/jobs/${jobId}/metrics?limit=2&offset=2`);
    expect(page.body).toMatchObject({ total: 5, limit: 2, offset: 2 });
    expect((page.body.metrics as { timestep: number }[]).map((m) => m.timestep)).toEqual([3000, 4000]);
    expect((await api(alice, 'GET', `/training/jobs/${jobId}/metrics?attempt=2`)).body).toMatchObject({ attempt: 2, total: 0, metrics: [] });
    expect((await api(alice, 'GET', `/training/jobs/${jobId}/metrics?limit=0`)).status).toBe(400);

    // The worker was lost: the job is requeued, restarts at 0, and its new run's metrics start empty.
    await asWorker(jobId, [
      { type: 'RequeueStaleTraining', attempt: 1, staleBefore: new Date(Date.now() + 60_000).toISOString(), maxAttempts: 3, reason: 'worker lost', now: now() },
    ]);
    const requeued = await api(alice, 'GET', `/training/jobs/${jobId}`);
    expect(requeued.body).toMatchObject({ status: 'pending', current_timestep: 0, progress_percentage: 0, attempt: 1 });
    expect(requeued.body.status_reason).toMatch(/^worker lost \(attempt 1 on test-worker\)/);
  });
});

describe('POST /training/jobs/{id}/cancel', () => {
  it('cancels a pending job at once, asks a running one to stop, refuses a finished one', async () => {
    const pending = await create(alice);
    expect((await api(bob, 'POST', `/training/jobs/${pending}/cancel`)).status).toBe(403);
    expect((await api(alice, 'POST', `/training/jobs/${UNKNOWN}/cancel`)).status).toBe(404);
    expect((await api(undefined, 'POST', `/training/jobs/${pending}/cancel`)).status).toBe(401);
    const cancelled = await api(alice, 'POST', `/training/jobs/${pending}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: pending, status: 'cancelled' });
    const again = await api(alice, 'POST', `/training/jobs/${pending}/cancel`);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error_type: 'InvalidStateError', detail: 'Training job is already cancelled' });

    const running = await create(alice);
    await asWorker(running, [claim()]);
    const requested = await api(alice, 'POST', `/training/jobs/${running}/cancel`);
    expect(requested.status).toBe(200);
    expect(requested.body).toMatchObject({ status: 'running', cancel_requested: true });
    await asWorker(running, [{ type: 'ConfirmTrainingCancelled', workerId: 'test-worker', attempt: 1, timestep: 1234, now: now() }]);
    expect((await api(alice, 'GET', `/training/jobs/${running}`)).body).toMatchObject({ status: 'cancelled', current_timestep: 1234 });
  });
});

describe('artefact and arena entry', () => {
  /** A real (tiny) DQN pong policy, trained in-process, stored like a worker stores it. */
  async function completedPongJob(token: string): Promise<string> {
    const jobId = await create(token, { algorithm: 'DQN', environment: 'pong', total_timesteps: 300 });
    const lines: unknown[] = [];
    const code = await runTrainerProcess({
      args: [JSON.stringify({ job_id: jobId, algorithm: 'DQN', environment: 'pong', total_timesteps: 300, artifact_dir: scratch, evaluation_episodes: 1, environment_options: { target_score: 1 }, hyperparameters: { learning_starts: 100, net_arch: [8] } })],
      readStdin: () => Promise.reject(new Error('unused')),
      writeLine: (line) => lines.push(line),
      onStopRequest: () => undefined,
      now: () => performance.now(),
    });
    expect(code).toBe(0);
    const stored = await arenaStorage(system.config).artifacts.put(readFileSync(join(scratch, `policy-${jobId}.json`)));
    await asWorker(jobId, [
      claim(),
      { type: 'CompleteTraining', workerId: 'test-worker', attempt: 1, timestep: 300, artifactKey: stored.key, artifactSizeBytes: stored.sizeBytes, meanReturn: -1, now: now() },
    ]);
    return jobId;
  }

  it('downloads the policy of a completed job; 404 before', async () => {
    const pending = await create(alice);
    const none = await api(alice, 'GET', `/training/jobs/${pending}/artifact`);
    expect(none.status).toBe(404);
    expect(none.body.detail).toBe('Training job has no artefact (status: pending)');
    const jobId = await completedPongJob(alice);
    const res = await fetch(`${system.url}/api/v1/training/jobs/${jobId}/artifact`, { headers: { authorization: `Bearer ${alice}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toMatchObject({ format: 'lapxcel-policy', algorithm: 'DQN', environment: 'pong' });
  }, 30_000);

  it("enters a completed pong DQN policy as a submission of the caller's pong agent", async () => {
    const jobId = await completedPongJob(alice);
    const agent = await api(alice, 'POST', '/agents', { name: `policy-${Date.now().toString(36)}`, environment_id: 'pong' });
    expect(agent.status).toBe(201);
    const agentId = String(agent.body.id);

    expect((await api(bob, 'POST', `/training/jobs/${jobId}/arena-submission`, { agent_id: agentId })).status).toBe(403);
    const bobsAgent = await api(bob, 'POST', '/agents', { name: `bobs-${Date.now().toString(36)}`, environment_id: 'pong' });
    expect((await api(alice, 'POST', `/training/jobs/${jobId}/arena-submission`, { agent_id: String(bobsAgent.body.id) })).status).toBe(403);
    expect((await api(alice, 'POST', `/training/jobs/${jobId}/arena-submission`, { agent_id: UNKNOWN })).status).toBe(404);
    const notDone = await api(alice, 'POST', `/training/jobs/${await create(alice, { algorithm: 'DQN', environment: 'pong', total_timesteps: 10 })}/arena-submission`, { agent_id: agentId });
    expect(notDone.status).toBe(400);
    expect(notDone.body.detail).toBe('Training job is pending; only a completed job has a policy to enter');

    const submitted = await api(alice, 'POST', `/training/jobs/${jobId}/arena-submission`, { agent_id: agentId });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ agent_id: agentId, version: '1.0.1', status: 'queued', training_job_id: jobId });
    const submission = await api(alice, 'GET', `/submissions/${String(submitted.body.id)}`);
    expect(submission.status).toBe(200);
    expect(submission.body).toMatchObject({ id: submitted.body.id, agent_id: agentId });

    // The archive the arena stored is the policy agent: agent.py, requirements.txt, policy.json.
    const [received] = await system.services.store.readStream(submissionStreamId(String(submitted.body.id)));
    const archive = await arenaStorage(system.config).artifacts.get(String(received!.data.artifactKey));
    const zip = inspectZip(archive);
    expect(zip.entries.map((entry) => entry.path).sort()).toEqual(['agent.py', 'policy.json', 'requirements.txt']);
    const policy = JSON.parse(inflateEntry(archive, zip.entries.find((entry) => entry.path === 'policy.json')!).toString('utf8')) as Record<string, unknown>;
    expect(policy).toMatchObject({ format: 'lapxcel-policy', algorithm: 'DQN', training: { job_id: jobId } });
  }, 30_000);

  it('refuses a policy that is not a pong DQN one', async () => {
    const jobId = await create(alice);
    const stored = await arenaStorage(system.config).artifacts.put(Buffer.from('{"not":"a policy"}'));
    await asWorker(jobId, [
      claim(),
      { type: 'CompleteTraining', workerId: 'test-worker', attempt: 1, timestep: 10_000, artifactKey: stored.key, artifactSizeBytes: stored.sizeBytes, meanReturn: null, now: now() },
    ]);
    const res = await api(alice, 'POST', `/training/jobs/${jobId}/arena-submission`, { agent_id: UNKNOWN });
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe('Only pong policies trained with DQN can enter the arena; this job trained SAC on LapSim-v1');
  });
});

describe('/ws/training', () => {
  it('checks ownership on subscribe and answers with a snapshot; unsubscribes', async () => {
    const jobId = await create(alice);
    const socket = await connectWebSocket(`${system.url.replace('http', 'ws')}/ws/training?token=${bob}`);
    try {
      socket.ws.send(JSON.stringify({ type: 'subscribe', job_id: jobId }));
      expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'FORBIDDEN', error: 'Not the owner of this training job' });
      socket.ws.send(JSON.stringify({ type: 'subscribe', job_id: UNKNOWN }));
      expect(await socket.next((m) => m.type === 'error' && m.code === 'NOT_FOUND')).toMatchObject({ error: 'Training job not found' });
      socket.ws.send(JSON.stringify({ type: 'subscribe', job_id: 'nope' }));
      expect(await socket.next((m) => m.type === 'error' && m.code === 'INVALID_MESSAGE')).toMatchObject({ details: { fields: { job_id: 'job_id must be a training job UUID' } } });
    } finally {
      socket.ws.close();
    }
    const own = await connectWebSocket(`${system.url.replace('http', 'ws')}/ws/training?token=${alice}`);
    try {
      own.ws.send(JSON.stringify({ type: 'subscribe', job_id: jobId.toUpperCase() }));
      expect(await own.next((m) => m.type === 'subscribed')).toEqual({
        type: 'subscribed',
        job_id: jobId,
        status: 'pending',
        progress_percentage: 0,
        current_timestep: 0,
        total_timesteps: 10_000,
        estimated_time_remaining: null,
      });
      await asWorker(jobId, [claim(), progress(2500)]);
      expect(await own.next((m) => m.type === 'training_progress')).toEqual({
        type: 'training_progress',
        job_id: jobId,
        progress_percentage: 25,
        current_timestep: 2500,
        estimated_time_remaining: 7.5,
        total_timesteps: 10_000,
        episode_reward: 2.5,
        episode_length: 200,
        fps: 1000,
        loss: 0.5,
        attempt: 1,
      });
      expect(own.messages.find((m) => m.type === 'training_started')).toMatchObject({ job_id: jobId, attempt: 1 });
      own.ws.send(JSON.stringify({ type: 'unsubscribe', job_id: jobId }));
      expect(await own.next((m) => m.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', job_id: jobId });
    } finally {
      own.ws.close();
    }
    const unauthenticated = await connectWebSocket(`${system.url.replace('http', 'ws')}/ws/training?token=nope`);
    expect(await unauthenticated.closed).toBe(4401);
  });
});

describe('OpenAPI', () => {
  it('documents every training route', async () => {
    const res = await http(system.url, 'GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const paths = Object.keys(res.body.paths as Record<string, unknown>).filter((path) => path.includes('/training/'));
    expect(paths.sort()).toEqual(
      [
        ...['', '/{job_id}', '/{job_id}/arena-submission', '/{job_id}/artifact', '/{job_id}/cancel', '/{job_id}/metrics'].map((suffix) => `/training/jobs${suffix}`),
        ...['/claim', '/jobs/{job_id}/cancelled', '/jobs/{job_id}/complete', '/jobs/{job_id}/fail', '/jobs/{job_id}/heartbeat', '/jobs/{job_id}/progress', '/jobs/{job_id}/release', '/tokens', '/tokens/{token_id}'].map(
          (suffix) => `/training/runners${suffix}`,
        ),
      ].sort(),
    );
    // The runner routes carry request and response examples.
    const claim = (res.body.paths as Record<string, Record<string, { requestBody: { content: Record<string, { schema: { example?: unknown } }> }; responses: Record<string, { content?: Record<string, { schema: { example?: unknown } }> }> }>>)['/training/runners/claim'].post;
    expect(claim.requestBody.content['application/json'].schema.example).toMatchObject({ environments: ['AssettoCorsaEnv-v1'] });
    expect(claim.responses['200'].content?.['application/json'].schema.example).toMatchObject({ job: { environment: 'AssettoCorsaEnv-v1' } });
  });
});

describe('training read models', () => {
  it('rebuild from history into the same rows', async () => {
    const snapshot = async () => ({
      jobs: await system.services.db('training_jobs').select('*').orderBy('id'),
      metrics: await system.services.db('training_metrics').select('*').orderBy(['job_id', 'revision']),
    });
    const live = await snapshot();
    expect(live.metrics.length).toBeGreaterThan(0);
    for (const projection of [trainingJobsProjection, trainingMetricsProjection]) {
      await rebuildProjection(system.services.db, system.services.store, projection, { logger: system.services.logger });
    }
    expect(await snapshot()).toEqual(live);
  });
});
