/**
 * The `training` worker role: consumes the trainingjob topic (group `worker.training`), claims
 * pending jobs with optimistic concurrency (TrainingStarted; a second worker's claim conflicts and
 * it skips the job), runs each in a TrainingRun, at most TRAINING_MAX_CONCURRENT_JOBS at a time,
 * and supervises the runs of all workers for ones gone quiet. docs/training.md, "Training worker".
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { TrainingJobStream } from '../../commands/training/training-job-stream';
import { InvalidStateError } from '../../domain/shared/errors';
import type { ExternalTrainers } from '../../domain/training/catalog';
import { TRAINING_JOB_CATEGORY } from '../../domain/training/training-job';
import { arenaStorage } from '../../infrastructure/artifacts/arena-storage';
import type { Consumer, DeliveredMessage } from '../../infrastructure/bus/message-bus';
import type { CommandServices } from '../../commands/command-states';
import type { EventMetadata } from '../../infrastructure/eventstore/event-store';
import { decodeEnvelope, topicForCategory } from '../../infrastructure/bus/event-envelope';
import { decodeRecordedEventOf } from '../../infrastructure/eventstore/event-decoding';
import type { RunningRole } from '../../infrastructure/running-role';
import { progressIntervalFor, trainerCommandFor } from './trainer-command';
import { TrainingRun, type TrainingRunTiming } from './training-run';
import { TrainingSupervisor } from './training-supervisor';

export const TRAINING_WORKER_GROUP = 'worker.training';
const QUEUEING_EVENTS = ['TrainingJobCreated', 'TrainingRequeued'] as const;

export interface TrainingWorkerOptions {
  maxConcurrentJobs: number;
  externalTrainers: ExternalTrainers;
  staleAfterMs: number;
  runnerLeaseMs: number;
  supervisorIntervalMs: number;
  maxAttempts: number;
  timing: TrainingRunTiming;
  /** Scratch directories for trainers: `<dir>/<job id>-<attempt>`. */
  scratchDir: string;
  evaluationEpisodes: number;
}

export function trainingWorkerOptions(config: CommandServices['config']): TrainingWorkerOptions {
  const staleAfterMs = config.TRAINING_STALE_AFTER_SEC * 1000;
  return {
    maxConcurrentJobs: config.TRAINING_MAX_CONCURRENT_JOBS,
    externalTrainers: config.TRAINING_EXTERNAL_TRAINERS,
    staleAfterMs,
    runnerLeaseMs: config.TRAINING_RUNNER_LEASE_SEC * 1000,
    supervisorIntervalMs: config.TRAINING_SUPERVISOR_INTERVAL_SEC * 1000,
    maxAttempts: config.TRAINING_MAX_ATTEMPTS,
    timing: {
      progressIntervalMs: config.TRAINING_PROGRESS_INTERVAL_MS,
      heartbeatAfterMs: staleAfterMs / 3,
      cancelPollMs: 500,
      stopGraceMs: 10_000,
    },
    scratchDir: join(config.dataDir, 'artifacts', 'training'),
    evaluationEpisodes: 10,
  };
}

class WorkerStoppingError extends Error {}

export class TrainingWorker {
  readonly workerId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly runs = new Map<string, TrainingRun>();
  private readonly logger: Logger;
  private readonly supervisor: TrainingSupervisor;
  private consumer?: Consumer;
  private freeSlots: number;
  private slotWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private stopping = false;

  constructor(
    private readonly services: CommandServices,
    private readonly options: TrainingWorkerOptions,
  ) {
    this.logger = services.logger.child({ role: 'training', workerId: this.workerId });
    this.freeSlots = options.maxConcurrentJobs;
    this.supervisor = new TrainingSupervisor({
      db: services.db,
      store: services.store,
      logger: this.logger.child({ component: 'supervisor' }),
      now: services.now,
      workerId: this.workerId,
      isRunningHere: (jobId) => this.runs.has(jobId),
      staleAfterMs: options.staleAfterMs,
      runnerLeaseMs: options.runnerLeaseMs,
      maxAttempts: options.maxAttempts,
      intervalMs: options.supervisorIntervalMs,
    });
  }

  async start(): Promise<void> {
    const topic = topicForCategory(this.services.config.TOPIC_PREFIX, TRAINING_JOB_CATEGORY);
    await this.services.bus.ensureTopics([topic]);
    this.consumer = await this.services.bus.subscribe({
      groupId: TRAINING_WORKER_GROUP,
      topics: [topic],
      fromBeginning: true,
      handler: (message) => this.handle(message),
    });
    this.supervisor.start();
    this.logger.info({ maxConcurrentJobs: this.options.maxConcurrentJobs }, 'training worker started');
  }

  /** The runs in progress here (for operators and tests). */
  activeJobs(): { jobId: string; attempt: number; pid: number | undefined }[] {
    return [...this.runs.values()].map((run) => ({ jobId: run.jobId, attempt: run.attempt, pid: run.pid }));
  }

  /** One supervisor pass now (tests; the timer does it every TRAINING_SUPERVISOR_INTERVAL_SEC). */
  superviseNow(): Promise<void> {
    return this.supervisor.sweepOnce();
  }

  /** Stops taking jobs, then stops the running trainers and requeues their jobs for other workers. */
  async stop(): Promise<void> {
    this.stopping = true;
    const consumerStopped = this.consumer?.stop(); // aborts first, so a waiting handler's message stays uncommitted
    for (const waiter of this.slotWaiters.splice(0)) waiter.reject(new WorkerStoppingError('training worker is stopping'));
    await consumerStopped;
    await this.supervisor.stop();
    await Promise.all([...this.runs.values()].map((run) => run.stop()));
  }

  private async handle(message: DeliveredMessage): Promise<void> {
    const event = decodeRecordedEventOf(decodeEnvelope(message.value), QUEUEING_EVENTS);
    if (event === undefined) return;
    const { jobId } = event.data;
    if (this.runs.has(jobId)) return;
    const metadata: EventMetadata = { correlationId: event.metadata.correlationId ?? event.id, causationId: event.id, workerId: this.workerId };
    const stream = await TrainingJobStream.open(this.services.store, jobId, metadata, this.services.commandStates.trainingJobs);
    if (stream.current.status !== 'pending') return; // claimed, finished or cancelled already: nothing to do
    if (stream.current.runner === 'remote') return; // trainer runners claim these over the HTTP API
    await this.acquireSlot(); // at capacity, the partition waits here: that is the queue
    try {
      await stream.refresh();
      if (stream.current.status !== 'pending') return this.releaseSlot();
      try {
        await stream.execute({ type: 'StartTraining', workerId: this.workerId, now: this.services.now().toISOString() });
      } catch (error) {
        if (error instanceof InvalidStateError) return this.releaseSlot(); // another worker claimed it first
        throw error;
      }
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    this.launch(stream);
  }

  private launch(stream: TrainingJobStream): void {
    const job = stream.current;
    if (job.status !== 'running') throw new Error('launch needs a claimed job');
    const created = { environment: job.environment, algorithm: job.algorithm, runner: job.runner };
    const logger = this.logger.child({ jobId: job.jobId, attempt: job.attempt });
    const run = new TrainingRun({
      stream,
      workerId: this.workerId,
      attempt: job.attempt,
      totalTimesteps: job.totalTimesteps,
      command: trainerCommandFor(created, this.options.externalTrainers),
      spec: {
        job_id: job.jobId,
        algorithm: job.algorithm,
        environment: job.environment,
        total_timesteps: job.totalTimesteps,
        hyperparameters: job.hyperparameters,
        environment_options: job.environmentOptions,
        seed: job.seed,
        artifact_dir: join(this.options.scratchDir, `${job.jobId}-${job.attempt}`),
        progress_interval_timesteps: progressIntervalFor(job.totalTimesteps),
        evaluation_episodes: this.options.evaluationEpisodes,
      },
      artifacts: arenaStorage(this.services.config).artifacts,
      timing: this.options.timing,
      logger,
      now: this.services.now,
    });
    this.runs.set(job.jobId, run);
    logger.info({ runner: job.runner, environment: job.environment, algorithm: job.algorithm }, 'training run started');
    void run
      .run()
      .then(
        (end) => logger.info({ end }, 'training run ended'),
        (error: unknown) => logger.error({ err: error }, 'training run failed unexpectedly; the supervisor will requeue the job'),
      )
      .finally(() => {
        this.runs.delete(job.jobId);
        this.releaseSlot();
      });
  }

  private acquireSlot(): Promise<void> {
    if (this.stopping) return Promise.reject(new WorkerStoppingError('training worker is stopping'));
    if (this.freeSlots > 0) {
      this.freeSlots--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.slotWaiters.push({ resolve, reject }));
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) next.resolve();
    else this.freeSlots++;
  }
}

/** The role starter registered in workerRoles; `overrides` lets tests shorten the timings. */
export async function startTrainingWorker(
  services: CommandServices,
  overrides: Partial<TrainingWorkerOptions> = {},
): Promise<RunningRole & { worker: TrainingWorker }> {
  const worker = new TrainingWorker(services, { ...trainingWorkerOptions(services.config), ...overrides });
  await worker.start();
  return { name: 'training', worker, stop: () => worker.stop() };
}
