import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { handleTrainingJobCommand } from '../../commands/training/training-job-commands';
import type { EventStore } from '../../infrastructure/eventstore/event-store';
import { quietRunningTrainingJobs } from '../../projections/postgres/training/training-queries';

export interface TrainingSupervisorOptions {
  db: Knex;
  store: EventStore;
  logger: Logger;
  now: () => Date;
  workerId: string;
  /** Jobs this worker runs itself: alive by definition, never requeued by its own supervisor. */
  isRunningHere: (jobId: string) => boolean;
  staleAfterMs: number;
  /** Trainer runners' lease length (TRAINING_RUNNER_LEASE_SEC): leased runs quiet this long are nominated. */
  runnerLeaseMs: number;
  maxAttempts: number;
  intervalMs: number;
}

/**
 * Finds runs whose worker went silent: running jobs whose last start/progress/heartbeat is older
 * than the stale limit. The read model only nominates them; the job's own stream decides
 * (RequeueStaleTraining), so a run that showed life meanwhile, or that another supervisor already
 * handled, is left alone. Runs held by trainer runners are judged by their lease instead
 * (ExpireTrainingLease): a runner whose lease ran out has lost the job. Every training worker runs
 * one; they may race, the stream settles it.
 */
export class TrainingSupervisor {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(private readonly options: TrainingSupervisorOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.sweepOnce(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** One pass; overlapping calls share the pass in progress. Returns when it is done. */
  sweepOnce(): Promise<void> {
    this.sweeping ??= this.sweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweep(): Promise<void> {
    await this.sweepQuietWorkers();
    await this.sweepExpiredLeases();
  }

  private async sweepExpiredLeases(): Promise<void> {
    const { db, store, logger, now, maxAttempts, workerId, runnerLeaseMs } = this.options;
    let candidates;
    try {
      candidates = await quietRunningTrainingJobs(db, new Date(now().getTime() - runnerLeaseMs), { remote: true });
    } catch (error) {
      logger.warn({ err: error }, 'training supervisor could not read the leased jobs');
      return;
    }
    for (const job of candidates) {
      try {
        const outcome = await handleTrainingJobCommand({ store, metadata: { causationId: `supervisor:${workerId}`, workerId } }, job.id, {
          type: 'ExpireTrainingLease',
          attempt: job.attempt,
          maxAttempts,
          now: now().toISOString(),
        });
        if (outcome.events.length > 0) {
          logger.warn({ jobId: job.id, attempt: job.attempt, lostRunner: job.worker_id, events: outcome.events.map((e) => e.type) }, 'training runner lease expired');
        }
      } catch (error) {
        logger.warn({ err: error, jobId: job.id }, 'training supervisor could not settle an expired lease');
      }
    }
  }

  private async sweepQuietWorkers(): Promise<void> {
    const { db, store, logger, now, staleAfterMs, maxAttempts, workerId } = this.options;
    const staleBefore = new Date(now().getTime() - staleAfterMs);
    let candidates;
    try {
      candidates = await quietRunningTrainingJobs(db, staleBefore);
    } catch (error) {
      logger.warn({ err: error }, 'training supervisor could not read the running jobs');
      return;
    }
    for (const job of candidates) {
      if (this.options.isRunningHere(job.id)) continue;
      try {
        const outcome = await handleTrainingJobCommand({ store, metadata: { causationId: `supervisor:${workerId}`, workerId } }, job.id, {
          type: 'RequeueStaleTraining',
          attempt: job.attempt,
          staleBefore: staleBefore.toISOString(),
          maxAttempts,
          reason: `worker lost: no progress or heartbeat for ${Math.round(staleAfterMs / 1000)} s`,
          now: now().toISOString(),
        });
        if (outcome.events.length > 0) {
          logger.warn({ jobId: job.id, attempt: job.attempt, lostWorker: job.worker_id, events: outcome.events.map((e) => e.type) }, 'training run lost');
        }
      } catch (error) {
        logger.warn({ err: error, jobId: job.id }, 'training supervisor could not settle a quiet job');
      }
    }
  }
}
