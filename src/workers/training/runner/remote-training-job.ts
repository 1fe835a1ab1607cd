/**
 * A claimed job as the runner sees it: TrainingRun records through it exactly as a server worker
 * records on the job's event stream, but each command goes to the runner routes, and the job's
 * state (still current? cancel requested?) comes back in each answer. The lease is renewed by
 * every report; TrainingRun's heartbeats keep it alive while the trainer is quiet.
 */
import { createHash } from 'node:crypto';
import type { TrainingJob, TrainingJobCommand } from '../../../domain/training/training-job';
import type { StoredArtifact } from '../../../infrastructure/artifacts/artifact-store';
import type { TrainingRunStream } from '../training-run';
import type { ClaimedJob, RunnerApiClient, RunState } from './runner-api-client';

export class RemoteTrainingJob implements TrainingRunStream {
  private state: TrainingJob;
  /** The artefact TrainingRun "stored", kept until CompleteTraining uploads it. */
  private readonly artefacts = new Map<string, Buffer>();

  constructor(
    private readonly client: RunnerApiClient,
    private readonly claimed: ClaimedJob,
    /** The id TrainingRun puts in its commands; the server knows the run by runner id and attempt. */
    readonly workerId: string,
  ) {
    const { job, run } = claimed;
    this.state = {
      status: 'running',
      jobId: job.id,
      ownerId: '',
      algorithm: job.algorithm,
      environment: job.environment,
      totalTimesteps: job.total_timesteps,
      runner: 'remote',
      hyperparameters: job.hyperparameters,
      environmentOptions: job.environment_options,
      seed: job.seed,
      attempt: run.attempt,
      workerId,
      lastActivityAt: null,
      cancelRequested: false,
      timestep: 0,
      artifactKey: null,
      lease: { durationMs: run.lease_duration_sec * 1000, expiresAt: run.lease_expires_at },
    };
  }

  get jobId(): string {
    return this.claimed.job.id;
  }

  get current(): TrainingJob {
    return this.state;
  }

  /** Every report answers the job's state, so there is nothing to read in between. */
  refresh(): Promise<unknown> {
    return Promise.resolve([]);
  }

  /** Stands in for the artifact store: the bytes go up with the completion. */
  readonly artifactStore = {
    put: (bytes: Buffer): Promise<StoredArtifact> => {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const key = `sha256/${sha256}`;
      this.artefacts.set(key, bytes);
      return Promise.resolve({ key, sha256, sizeBytes: bytes.length });
    },
  };

  async execute(command: TrainingJobCommand): Promise<unknown> {
    const run = { runner_id: this.claimed.run.runner_id, attempt: this.claimed.run.attempt };
    const jobId = this.jobId;
    switch (command.type) {
      case 'RecordTrainingProgress':
        return this.observe(
          await this.client.report(jobId, 'progress', {
            ...run,
            timestep: command.timestep,
            episode_reward: command.episodeReward,
            episode_length: command.episodeLength,
            fps: command.fps,
            loss: command.loss,
            estimated_time_remaining: command.estimatedTimeRemainingSec,
          }),
        );
      case 'RecordTrainingHeartbeat':
        return this.observe(await this.client.report(jobId, 'heartbeat', run));
      case 'ConfirmTrainingCancelled':
        return this.observe(await this.client.report(jobId, 'cancelled', { ...run, timestep: command.timestep }));
      case 'FailTraining':
        return this.observe(await this.client.report(jobId, 'fail', { ...run, reason: command.reason.slice(0, 4000) }));
      case 'ReleaseTraining':
        return this.observe(await this.client.report(jobId, 'release', { ...run, reason: command.reason }));
      case 'CompleteTraining': {
        const artefact = this.artefacts.get(command.artifactKey);
        if (!artefact) throw new Error(`artefact ${command.artifactKey} was not produced by this run`);
        return this.observe(await this.client.complete(jobId, { ...run, timestep: command.timestep, mean_return: command.meanReturn }, artefact));
      }
      default:
        throw new Error(`a runner does not send ${command.type}`);
    }
  }

  private observe(answer: RunState): RunState {
    if (this.state.status === 'none') return answer;
    const current = answer.attempt === this.claimed.run.attempt;
    this.state = {
      ...this.state,
      status: answer.status,
      cancelRequested: answer.cancel_requested,
      // Another attempt means another run: TrainingRun sees a different worker and abandons this one.
      workerId: current ? this.workerId : null,
      attempt: answer.attempt,
      lease: this.state.lease && answer.lease_expires_at ? { ...this.state.lease, expiresAt: answer.lease_expires_at } : this.state.lease,
    };
    return answer;
  }
}
