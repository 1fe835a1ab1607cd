/**
 * A training worker killed mid-job (SIGKILL, no goodbye) does not leave its job running forever:
 * the supervisor of another worker sees the run go quiet and requeues it, and that worker runs it
 * again from timestep 0; a job whose runs were lost TRAINING_MAX_ATTEMPTS times fails instead.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { handleTrainingJobCommand } from '../../src/commands/training/training-job-commands';
import { trainingJobStreamId } from '../../src/domain/training/training-job';
import type { RunningRole } from '../../src/runtime/background-roles';
import { startTrainingWorker, type TrainingWorker } from '../../src/workers/training/training-worker';
import { http, startTestSystem, type TestSystem } from '../support/test-system';

const ROOT = resolve(__dirname, '../..');
const STALE_AFTER_SEC = 2;
const MAX_ATTEMPTS = 2;

interface WorkerReport {
  workerId: string;
  active: { jobId: string; attempt: number; pid?: number }[];
}

let system: TestSystem;
let child: ChildProcessWithoutNullStreams | undefined;
let local: (RunningRole & { worker: TrainingWorker }) | undefined;
const strayPids: number[] = [];

beforeAll(async () => {
  system = await startTestSystem();
}, 60_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  for (const pid of strayPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
  await local?.stop();
  await system?.stop();
});

/** The training role in its own process, on this system's database and topics. */
function startWorkerProcess(): { process: ChildProcessWithoutNullStreams; reports: WorkerReport[]; next(p: (r: WorkerReport) => boolean): Promise<WorkerReport> } {
  const config = system.config;
  const worker = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'test/support/training-worker-process.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATABASE_URL: config.DATABASE_URL ?? '',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'training-worker-')),
      TOPIC_PREFIX: config.TOPIC_PREFIX,
      // Same bus as the system under test: Kafka when it runs on Kafka, else the in-process bus.
      ...(config.KAFKA_BROKERS ? { KAFKA_BROKERS: config.KAFKA_BROKERS.join(',') } : {}),
      JWT_SECRET: config.JWT_SECRET ?? '',
      TRAINING_STALE_AFTER_SEC: String(STALE_AFTER_SEC),
      TRAINING_SUPERVISOR_INTERVAL_SEC: '0.5',
      TRAINING_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    },
  });
  const reports: WorkerReport[] = [];
  const waiters: { predicate: (r: WorkerReport) => boolean; resolve: (r: WorkerReport) => void }[] = [];
  let pending = '';
  let stderr = '';
  worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  worker.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const report = JSON.parse(line) as WorkerReport;
      reports.push(report);
      for (const waiter of waiters.filter((w) => w.predicate(report))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(report);
      }
    }
  });
  return {
    process: worker,
    reports,
    next: (predicate) =>
      new Promise((resolveReport, reject) => {
        const seen = reports.find(predicate);
        if (seen) return resolveReport(seen);
        waiters.push({ predicate, resolve: resolveReport });
        worker.once('exit', (code) => reject(new Error(`training worker exited (${code}): ${stderr}`)));
      }),
  };
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('requeues the job of a SIGKILLed worker and runs it again elsewhere; fails a job that lost too many runs', async () => {
  const name = `killer_${Math.random().toString(36).slice(2, 10)}`;
  const registered = await http(system.url, 'POST', '/api/v1/auth/register', { body: { username: name, email: `${name}@x.io`, password: 'SecurePass123' } });
  const token = String(registered.body.access_token);
  const api = (method: string, path: string, body?: unknown) => http(system.url, method, `/api/v1${path}`, { token, body });
  const longJob = { algorithm: 'SAC', environment: 'LapSim-v1', total_timesteps: 5_000_000, hyperparameters: { learning_starts: 100, batch_size: 16, net_arch: [8] } };

  // A job whose runs were already lost MAX_ATTEMPTS times: claimed by workers that never report.
  const doomed = String((await api('POST', '/training/jobs', longJob)).body.id);
  const store = { store: system.services.store, metadata: {} };
  const past = new Date(Date.now() - 60_000).toISOString();
  await handleTrainingJobCommand(store, doomed, { type: 'StartTraining', workerId: 'ghost-1', now: past });
  await handleTrainingJobCommand(store, doomed, { type: 'RequeueStaleTraining', attempt: 1, staleBefore: new Date().toISOString(), maxAttempts: MAX_ATTEMPTS, reason: 'lost', now: past });
  await handleTrainingJobCommand(store, doomed, { type: 'StartTraining', workerId: 'ghost-2', now: past });

  const jobId = String((await api('POST', '/training/jobs', longJob)).body.id);
  const worker = startWorkerProcess();
  child = worker.process;
  const running = await worker.next((report) => report.active.some((job) => job.jobId === jobId && job.pid !== undefined));
  const remoteWorkerId = running.workerId;
  const trainerPid = running.active.find((job) => job.jobId === jobId)!.pid!;
  strayPids.push(trainerPid);
  await eventually(async () => {
    const job = await api('GET', `/training/jobs/${jobId}`);
    return job.body.status === 'running' && Number(job.body.current_timestep) > 0 ? job : undefined;
  }, 20_000, 'progress from the child worker');

  // The child's supervisor gives up on the job whose runs kept getting lost.
  const failed = await eventually(async () => {
    const job = await api('GET', `/training/jobs/${doomed}`);
    return job.body.status === 'failed' ? job : undefined;
  }, 20_000, 'the doomed job to fail');
  expect(failed.body.status_reason).toMatch(/^worker lost: .*attempt 2 on ghost-2.*gave up after 2 attempt\(s\)/);

  worker.process.kill('SIGKILL');
  await new Promise((r) => worker.process.once('exit', r));
  child = undefined;
  // Its trainer notices at its next write to the closed pipe and exits (no orphan keeps training).
  await eventually(async () => (isAlive(trainerPid) ? undefined : true), 15_000, 'the orphaned trainer to exit');

  local = await startTrainingWorker(system.services, { staleAfterMs: STALE_AFTER_SEC * 1000, supervisorIntervalMs: 500, maxAttempts: MAX_ATTEMPTS });
  const resumed = await eventually(async () => {
    const job = await api('GET', `/training/jobs/${jobId}`);
    return job.body.status === 'running' && job.body.attempt === 2 ? job : undefined;
  }, 40_000, 'the job to run again on the local worker');
  expect(resumed.body.status_reason).toMatch(/^worker lost: no progress or heartbeat for 2 s \(attempt 1 on /);
  expect(local.worker.activeJobs().map((job) => job.jobId)).toContain(jobId);

  const events = await system.services.store.readStream(trainingJobStreamId(jobId));
  const summary = events.filter((e) => ['TrainingStarted', 'TrainingRequeued'].includes(e.type)).map((e) => [e.type, e.data.attempt, e.data.workerId ?? e.data.previousWorkerId]);
  expect(summary).toEqual([
    ['TrainingStarted', 1, remoteWorkerId],
    ['TrainingRequeued', 2, remoteWorkerId],
    ['TrainingStarted', 2, local.worker.workerId],
  ]);

  expect((await api('POST', `/training/jobs/${jobId}/cancel`)).status).toBe(200);
  await eventually(async () => {
    const job = await api('GET', `/training/jobs/${jobId}`);
    return job.body.status === 'cancelled' ? job : undefined;
  }, 20_000, 'the job to be cancelled');
}, 120_000);
