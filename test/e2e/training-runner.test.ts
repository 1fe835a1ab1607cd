/**
 * The LapXcel document's own training example, run as the document shows it: `AssettoCorsaEnv-v1`
 * with SAC and SB3 hyperparameters is accepted (201, pending, `waiting_for_runner`) on a server
 * with no trainer for it, and is run by trainer runners: the built `arena runner`, in processes of
 * their own, talking HTTP only, each running a test trainer that speaks the trainer protocol.
 * Progress arrives on /ws/training, the artefact downloads, and a runner killed with SIGKILL loses
 * its lease: the job is requeued and a second runner finishes it.
 */
import { join, resolve } from 'node:path';
import type { RunningRole } from '../../src/runtime/background-roles';
import { startTrainingWorker, type TrainingWorker } from '../../src/workers/training/training-worker';
import { ensureBuilt, runCli, type CliProcess } from '../support/cli-process';
import { http, startTestSystem, type TestSystem } from '../support/test-system';
import { connectWebSocket, type WebSocketTestClient } from '../support/ws-client';

const ROOT = resolve(__dirname, '../..');
/** Short so the test is quick, long enough that a loaded machine's slow requests do not lose a live runner's lease. */
const LEASE_SEC = 10;
const TEST_TRAINERS = JSON.stringify({
  'AssettoCorsaEnv-v1': { command: [process.execPath, join(ROOT, 'test/support/protocol-test-trainer.js')], algorithms: ['SAC'] },
});
/** The request body of the document's "Create Training Job" example, unchanged. */
const DOCUMENT_EXAMPLE = {
  algorithm: 'SAC',
  environment: 'AssettoCorsaEnv-v1',
  total_timesteps: 1000000,
  hyperparameters: { learning_rate: 0.0003, buffer_size: 1000000, batch_size: 256 },
  description: 'SAC training on Monza',
};

let system: TestSystem;
let supervisor: RunningRole & { worker: TrainingWorker };
let token: string;
let otherToken: string;
let socket: WebSocketTestClient;
const runners: CliProcess[] = [];

const register = async (prefix: string): Promise<string> => {
  const name = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  const registered = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
  expect(registered.status).toBe(201);
  return String(registered.body.access_token);
};
const api = (method: string, path: string, options: { body?: unknown; token?: string } = {}) =>
  http(system.url, method, `/api/v1${path}`, { token: token, ...options });
const forJob = (jobId: string, type: string) => (message: Record<string, unknown>) => message.job_id === jobId && message.type === type;

function startRunner(runnerToken: string, name: string, stepMs: number): CliProcess {
  const runner = runCli(
    ['runner', '--server', system.url, '--token', runnerToken, '--environments', 'AssettoCorsaEnv-v1', '--runner-id', name, '--progress-interval-ms', '200', '--claim-wait-sec', '2'],
    { TRAINING_EXTERNAL_TRAINERS: TEST_TRAINERS, TRAINER_STEP_MS: String(stepMs), LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' },
  );
  runners.push(runner);
  return runner;
}

async function issueRunnerToken(accessToken: string, name: string): Promise<string> {
  const issued = await api('POST', '/training/runners/tokens', { token: accessToken, body: { name } });
  expect(issued.status).toBe(201);
  expect(issued.body).toMatchObject({ name, scope: 'training_runner', token: expect.stringMatching(/^lxrt_/) });
  return String(issued.body.token);
}

beforeAll(async () => {
  ensureBuilt();
  system = await startTestSystem({ env: { TRAINING_RUNNER_LEASE_SEC: String(LEASE_SEC), TRAINING_PROGRESS_INTERVAL_MS: '200' } });
  // The server's training worker: it never runs remote jobs, but its supervisor watches their leases.
  supervisor = await startTrainingWorker(system.services, { supervisorIntervalMs: 500 });
  token = await register('runner_owner');
  otherToken = await register('runner_other');
  socket = await connectWebSocket(`${system.url.replace('http', 'ws')}/ws/training?token=${token}`);
}, 120_000);

afterAll(async () => {
  if (process.env.DEBUG_RUNNER_OUTPUT) for (const runner of runners) console.log(runner.output().slice(-6000));
  for (const runner of runners) if (runner.child.exitCode === null) runner.child.kill('SIGKILL');
  socket?.ws.close();
  await supervisor?.stop();
  await system?.stop();
});

describe('the document training example served by trainer runners', () => {
  let jobId: string;
  let runnerToken: string;

  it('accepts the example as is: 201 pending, and the job waits for a runner', async () => {
    const created = await api('POST', '/training/jobs', { body: DOCUMENT_EXAMPLE });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ algorithm: 'SAC', environment: 'AssettoCorsaEnv-v1', status: 'pending', total_timesteps: 1000000 });
    jobId = String(created.body.id);
    const job = await api('GET', `/training/jobs/${jobId}`);
    expect(job.body).toMatchObject({ status: 'pending', runner: 'remote', status_reason: 'waiting_for_runner', attempt: 0 });
    expect(job.body.hyperparameters).toMatchObject({ learning_rate: 0.0003, buffer_size: 1000000, batch_size: 256 });
    // Still waiting a moment later: the server's own worker does not take it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await api('GET', `/training/jobs/${jobId}`)).body).toMatchObject({ status: 'pending', status_reason: 'waiting_for_runner' });
    socket.ws.send(JSON.stringify({ type: 'subscribe', job_id: jobId }));
    expect(await socket.next(forJob(jobId, 'subscribed'))).toMatchObject({ status: 'pending' });
  }, 30_000);

  it('keeps runner tokens and access tokens apart, and runner tokens to their owner', async () => {
    runnerToken = await issueRunnerToken(token, 'e2e-rig');
    // A runner token is no access token: normal routes and the WebSocket refuse it.
    expect((await api('GET', '/training/jobs', { token: runnerToken })).status).toBe(401);
    expect((await api('GET', `/training/jobs/${jobId}`, { token: runnerToken })).status).toBe(401);
    // An access token is no runner token.
    const claimWithAccess = await api('POST', '/training/runners/claim', { body: { runner_id: 'x', environments: ['AssettoCorsaEnv-v1'] } });
    expect(claimWithAccess.status).toBe(401);
    expect(String(claimWithAccess.body.detail)).toMatch(/runner token/);
    expect((await api('POST', '/training/runners/claim', { token: `${runnerToken.slice(0, -2)}xx`, body: { runner_id: 'x', environments: ['AssettoCorsaEnv-v1'] } })).status).toBe(401);
    // Another user's runner sees none of this user's jobs and cannot report on them.
    const otherRunner = await issueRunnerToken(otherToken, 'other-rig');
    const otherClaim = await api('POST', '/training/runners/claim', { token: otherRunner, body: { runner_id: 'other', environments: ['AssettoCorsaEnv-v1'] } });
    expect(otherClaim.status).toBe(204);
    const otherReport = await api('POST', `/training/runners/jobs/${jobId}/heartbeat`, { token: otherRunner, body: { runner_id: 'other', attempt: 1 } });
    expect(otherReport.status).toBe(403);
    // Environments no runner may serve here are named.
    const unknown = await api('POST', '/training/runners/claim', { token: runnerToken, body: { runner_id: 'x', environments: ['Nope-v0'] } });
    expect(unknown.status).toBe(400);
    expect(String(unknown.body.detail)).toMatch(/AssettoCorsaEnv-v1/);
    // A revoked token is refused from the next request on.
    const spare = await api('POST', '/training/runners/tokens', { body: { name: 'spare' } });
    expect((await api('DELETE', `/training/runners/tokens/${String(spare.body.id)}`, { token: otherToken })).status).toBe(403);
    expect((await api('DELETE', `/training/runners/tokens/${String(spare.body.id)}`)).status).toBe(204);
    expect((await api('POST', '/training/runners/claim', { token: String(spare.body.token), body: { runner_id: 'x', environments: ['AssettoCorsaEnv-v1'] } })).status).toBe(401);
    expect((await api('GET', `/training/jobs/${jobId}`)).body).toMatchObject({ status: 'pending', attempt: 0 });
  }, 30_000);

  it('runs on a runner; SIGKILL of the runner requeues the job when its lease runs out; a second runner finishes it', async () => {
    const first = startRunner(runnerToken, 'runner-a', 40);
    expect(await socket.next(forJob(jobId, 'training_started'))).toMatchObject({ status: 'running', attempt: 1 });
    const progress = await socket.next((m) => forJob(jobId, 'training_progress')(m) && m.attempt === 1);
    expect(progress).toMatchObject({ progress_percentage: expect.any(Number), current_timestep: expect.any(Number), total_timesteps: 1000000 });
    const running = await api('GET', `/training/jobs/${jobId}`);
    expect(running.body).toMatchObject({ status: 'running', runner: 'remote', attempt: 1, status_reason: null });

    first.child.kill('SIGKILL');
    await first.exited;
    // A killed runner says nothing: the job stays running until its lease runs out.
    expect((await api('GET', `/training/jobs/${jobId}`)).body).toMatchObject({ status: 'running', attempt: 1 });
    const requeued = await socket.next(forJob(jobId, 'training_requeued'));
    expect(requeued).toMatchObject({ status: 'pending', attempt: 2, reason: expect.stringMatching(/lease expired.*runner-a/) });
    expect((await api('GET', `/training/jobs/${jobId}`)).body).toMatchObject({ status: 'pending', status_reason: 'waiting_for_runner' });

    const second = startRunner(runnerToken, 'runner-b', 0);
    expect(await socket.next((m) => forJob(jobId, 'training_started')(m) && m.attempt === 2)).toMatchObject({ status: 'running' });
    const done = await socket.next((m) => m.job_id === jobId && ['training_completed', 'training_failed'].includes(String(m.type)));
    if (done.type !== 'training_completed') console.log(JSON.stringify(done), second.output().slice(-3000));
    expect(done).toMatchObject({ type: 'training_completed', status: 'completed', progress_percentage: 100, current_timestep: 1000000, mean_return: 42.5 });

    const job = await api('GET', `/training/jobs/${jobId}`);
    expect(job.body).toMatchObject({ status: 'completed', attempt: 2, artifact_available: true, mean_return: 42.5, description: 'SAC training on Monza' });
    const metrics = await api('GET', `/training/jobs/${jobId}/metrics`);
    const timesteps = (metrics.body.metrics as { timestep: number }[]).map((row) => row.timestep);
    expect(timesteps[timesteps.length - 1]).toBe(1000000);
    expect((await api('GET', `/training/jobs/${jobId}/metrics?attempt=1`)).body.total).toBeGreaterThan(0);

    const artefact = await fetch(`${system.url}/api/v1/training/jobs/${jobId}/artifact`, { headers: { authorization: `Bearer ${token}` } });
    expect(artefact.status).toBe(200);
    expect(JSON.parse(await artefact.text())).toMatchObject({ format: 'protocol-test-policy', job_id: jobId, algorithm: 'SAC', trained_timesteps: 1000000 });

    // A runner stopped politely exits 0.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 300_000);

  it('a runner stopped with SIGTERM mid-job hands the job back at once', async () => {
    const created = await api('POST', '/training/jobs', { body: { ...DOCUMENT_EXAMPLE, description: 'released' } });
    const releasedJob = String(created.body.id);
    socket.ws.send(JSON.stringify({ type: 'subscribe', job_id: releasedJob }));
    const runner = startRunner(runnerToken, 'runner-c', 100);
    await socket.next(forJob(releasedJob, 'training_progress'));
    runner.child.kill('SIGTERM');
    const code = await runner.exited;
    if (code !== 0) console.log('runner-c', code, runner.child.signalCode, runner.output().slice(-3000));
    expect(code).toBe(0);
    expect(await socket.next(forJob(releasedJob, 'training_requeued'))).toMatchObject({ attempt: 2, reason: 'the worker running it stopped' });
    expect((await api('POST', `/training/jobs/${releasedJob}/cancel`)).body).toMatchObject({ status: 'cancelled' });
  }, 150_000);
});
