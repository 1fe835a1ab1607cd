/**
 * `arena runner`: claims its owner's jobs for the environments it serves from a server, over the
 * public HTTP API only, and runs each with the trainer configured locally for the environment
 * (TRAINING_EXTERNAL_TRAINERS, the same protocol and the same TrainingRun as a server worker).
 * Progress renews the lease; SIGTERM hands running jobs back (release); a runner that dies simply
 * stops renewing, and the server requeues the job when the lease runs out.
 */
import { randomUUID } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { UnauthorizedError } from '../../../domain/shared/errors';
import type { ExternalTrainers } from '../../../domain/training/catalog';
import { progressIntervalFor, trainerCommandFor } from '../trainer-command';
import { TrainingRun } from '../training-run';
import { RemoteTrainingJob } from './remote-training-job';
import { RunnerApiClient, RunnerRequestError, type ClaimedJob } from './runner-api-client';

export interface TrainerRunnerOptions {
  server: string;
  token: string;
  environments: string[];
  trainers: ExternalTrainers;
  runnerId?: string;
  maxConcurrentJobs: number;
  /** At most one progress report per this many ms (the last one before the end always goes). */
  progressIntervalMs: number;
  /** How long one claim request waits on the server for a job (long poll). */
  claimWaitSec: number;
  workDir?: string;
  evaluationEpisodes: number;
  logger: Logger;
}

const RETRY_AFTER_ERROR_MS = 2000;

export class TrainerRunner {
  readonly runnerId: string;
  private readonly client: RunnerApiClient;
  private readonly runs = new Map<string, TrainingRun>();
  private readonly workDir: string;
  private stopping = false;
  private claimAbort?: AbortController;
  private loop?: Promise<void>;
  private runEnded?: () => void;

  constructor(private readonly options: TrainerRunnerOptions) {
    this.runnerId = options.runnerId ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.client = new RunnerApiClient(options.server, options.token);
    this.workDir = options.workDir ?? join(tmpdir(), `arena-runner-${process.pid}`);
  }

  /** Algorithms the local trainers offer for the served environments (the claim asks for no others). */
  private algorithms(): string[] {
    const names = this.options.environments.flatMap((environment) => this.options.trainers[environment]?.algorithms ?? []);
    return [...new Set(names)];
  }

  /** Runs until stop(); rejects on a refusal no retry can fix (bad token, environments not served). */
  start(): Promise<void> {
    this.loop ??= this.claimLoop();
    return this.loop;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.claimAbort?.abort();
    await Promise.all([...this.runs.values()].map((run) => run.stop()));
    await this.loop?.catch(() => undefined);
  }

  private async claimLoop(): Promise<void> {
    const { logger, environments } = this.options;
    logger.info({ runnerId: this.runnerId, environments, algorithms: this.algorithms() }, 'trainer runner started');
    while (!this.stopping) {
      if (this.runs.size >= this.options.maxConcurrentJobs) {
        await new Promise<void>((resolve) => (this.runEnded = resolve));
        continue;
      }
      this.claimAbort = new AbortController();
      let claimed: ClaimedJob | undefined;
      try {
        claimed = await this.client.claim(
          { runner_id: this.runnerId, environments, algorithms: this.algorithms(), wait_sec: this.options.claimWaitSec },
          this.claimAbort.signal,
        );
      } catch (error) {
        if (this.stopping) break;
        if (error instanceof UnauthorizedError || error instanceof RunnerRequestError) throw error;
        logger.warn({ err: error }, 'claim failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
        continue;
      }
      if (claimed && !this.stopping) this.launch(claimed);
      else if (claimed) await this.handBack(claimed);
    }
    logger.info('trainer runner stopped');
  }

  /** Claimed in the moment the runner was stopping: give it straight back. */
  private async handBack(claimed: ClaimedJob): Promise<void> {
    await this.client
      .report(claimed.job.id, 'release', { runner_id: this.runnerId, attempt: claimed.run.attempt, reason: 'the runner stopped' })
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not hand back a job claimed while stopping'));
  }

  private launch(claimed: ClaimedJob): void {
    const { job, run: lease } = claimed;
    const logger = this.options.logger.child({ jobId: job.id, attempt: lease.attempt });
    const remote = new RemoteTrainingJob(this.client, claimed, this.runnerId);
    const leaseMs = lease.lease_duration_sec * 1000;
    const run = new TrainingRun({
      stream: remote,
      workerId: this.runnerId,
      attempt: lease.attempt,
      totalTimesteps: job.total_timesteps,
      command: trainerCommandFor({ runner: 'external', environment: job.environment, algorithm: job.algorithm }, this.options.trainers),
      spec: {
        job_id: job.id,
        algorithm: job.algorithm,
        environment: job.environment,
        total_timesteps: job.total_timesteps,
        hyperparameters: job.hyperparameters,
        environment_options: job.environment_options,
        seed: job.seed,
        artifact_dir: join(this.workDir, `${job.id}-${lease.attempt}`),
        progress_interval_timesteps: progressIntervalFor(job.total_timesteps),
        evaluation_episodes: this.options.evaluationEpisodes,
      },
      artifacts: remote.artifactStore,
      timing: {
        progressIntervalMs: this.options.progressIntervalMs,
        // Renew well inside the lease, whatever the trainer prints.
        heartbeatAfterMs: Math.min(lease.heartbeat_interval_sec * 1000, leaseMs / 3),
        cancelPollMs: Math.max(100, Math.min(1000, leaseMs / 6)),
        stopGraceMs: 10_000,
      },
      logger,
      now: () => new Date(),
    });
    this.runs.set(job.id, run);
    logger.info({ environment: job.environment, algorithm: job.algorithm, leaseExpiresAt: lease.lease_expires_at }, 'claimed a training job');
    void run
      .run()
      .then(
        (end) => logger.info({ end }, 'training run ended'),
        (error: unknown) => logger.error({ err: error }, 'training run failed unexpectedly; the lease will run out and the job be requeued'),
      )
      .finally(() => {
        this.runs.delete(job.id);
        this.runEnded?.();
        this.runEnded = undefined;
      });
  }
}
