import { z } from 'zod';
import { enterPolicyInArena } from '../../commands/training/enter-policy-in-arena';
import { createTrainingJob, requestTrainingCancel } from '../../commands/training/training-job-commands';
import { submissionStreamId } from '../../domain/arena/submission';
import { ForbiddenError, NotFoundError } from '../../domain/shared/errors';
import { trainingJobStreamId } from '../../domain/training/training-job';
import { arenaStorage } from '../../infrastructure/artifacts/arena-storage';
import type { CommandServices } from '../../commands/command-states';
import { submissionsProjection } from '../../projections/postgres/arena/submissions-projection';
import { trainingJobsProjection } from '../../projections/postgres/training/training-jobs-projection';
import { findTrainingJob, listTrainingJobs, listTrainingMetrics, type TrainingJobRow } from '../../projections/postgres/training/training-queries';
import { defineRoute } from '../shared/route';
import { trainingRunnerRoutes } from './training-runner-routes';
import {
  ArenaSubmissionBody,
  ArenaSubmissionResponse,
  CreatedTrainingJobResponse,
  CreateTrainingJobBody,
  JobParams,
  ListTrainingJobsQuery,
  ListTrainingJobsResponse,
  ListTrainingMetricsQuery,
  TrainingJobResponse,
  TrainingMetricsResponse,
} from './training-schemas';

export type TrainingRouteDeps = Pick<CommandServices, 'store' | 'db' | 'bus' | 'config' | 'now' | 'newId'>;

/** The `status_reason` of a pending job that only a trainer runner can run (docs/training.md, Trainer runners). */
export const WAITING_FOR_RUNNER = 'waiting_for_runner';

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function trainingJobBody(row: TrainingJobRow) {
  return {
    id: row.id,
    algorithm: row.algorithm,
    environment: row.environment,
    status: row.status,
    progress_percentage: row.progress_percentage,
    current_timestep: row.current_timestep,
    total_timesteps: row.total_timesteps,
    created_at: row.created_at.toISOString(),
    description: row.description,
    hyperparameters: row.hyperparameters,
    environment_options: row.environment_options,
    seed: row.seed,
    runner: row.runner,
    attempt: row.attempt,
    cancel_requested: row.cancel_requested,
    estimated_time_remaining: row.estimated_time_remaining,
    episode_reward: row.episode_reward,
    episode_length: row.episode_length,
    fps: row.fps,
    loss: row.loss,
    mean_return: row.mean_return,
    // A remote job waits for a trainer runner that serves its environment to claim it.
    status_reason: row.status === 'pending' && row.runner === 'remote' ? WAITING_FOR_RUNNER : row.status_reason,
    artifact_available: row.artifact_key !== null,
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    last_heartbeat_at: iso(row.last_heartbeat_at),
  };
}

/** Only the owner sees a job: 404 when there is none, 403 when it is someone else's. */
export async function requireOwnTrainingJob(db: CommandServices['db'], jobId: string, userId: string): Promise<TrainingJobRow> {
  const row = await findTrainingJob(db, jobId);
  if (!row) throw new NotFoundError('Training job not found');
  if (row.owner_id !== userId) throw new ForbiddenError('Not the owner of this training job');
  return row;
}

export function trainingRoutes(deps: TrainingRouteDeps) {
  const artifacts = arenaStorage(deps.config).artifacts;

  return [
    defineRoute({
      method: 'get',
      path: '/training/jobs',
      summary: "The authenticated user's training jobs, newest first",
      tags: ['training'],
      auth: 'required',
      request: { query: ListTrainingJobsQuery },
      responses: { 200: { description: 'Training jobs', schema: ListTrainingJobsResponse } },
      handler: async ({ query, user }) => {
        const { rows, total } = await listTrainingJobs(deps.db, user.id, query);
        return { status: 200, body: { jobs: rows.map(trainingJobBody), total, limit: query.limit, offset: query.offset } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/training/jobs',
      summary: 'Create a training job; a training worker picks it up',
      tags: ['training'],
      waitFor: trainingJobsProjection,
      auth: 'required',
      request: { body: CreateTrainingJobBody },
      responses: {
        201: { description: 'Queued', schema: CreatedTrainingJobResponse },
        400: { description: 'Unknown environment or algorithm (the message names the known ones), or invalid hyperparameters' },
      },
      handler: async (ctx) => {
        const { body } = ctx;
        const trainers = { external: deps.config.TRAINING_EXTERNAL_TRAINERS, runnerEnvironments: deps.config.TRAINING_RUNNER_ENVIRONMENTS };
        const outcome = await createTrainingJob(ctx.command, trainers, {
          ownerId: ctx.user.id,
          algorithm: body.algorithm,
          environment: body.environment,
          totalTimesteps: body.total_timesteps,
          hyperparameters: body.hyperparameters,
          environmentOptions: body.environment_options,
          description: body.description ?? null,
          seed: body.seed,
        });
        const created = outcome.events[0];
        if (created?.type !== 'TrainingJobCreated') throw new Error('training job was not created');
        return {
          status: 201,
          written: { streamId: trainingJobStreamId(outcome.jobId), revision: outcome.revision },
          body: {
            id: outcome.jobId,
            algorithm: created.data.algorithm,
            environment: created.data.environment,
            status: 'pending',
            total_timesteps: created.data.totalTimesteps,
            created_at: created.data.createdAt,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/training/jobs/:job_id',
      summary: 'One training job',
      tags: ['training'],
      auth: 'required',
      request: { params: JobParams },
      responses: { 200: { description: 'The job', schema: TrainingJobResponse }, 403: { description: 'Not the owner' } },
      handler: async ({ params, user }) => ({ status: 200, body: trainingJobBody(await requireOwnTrainingJob(deps.db, params.job_id, user.id)) }),
    }),
    defineRoute({
      method: 'get',
      path: '/training/jobs/:job_id/metrics',
      summary: "A training run's metrics, one entry per recorded progress report, oldest first",
      tags: ['training'],
      auth: 'required',
      request: { params: JobParams, query: ListTrainingMetricsQuery },
      responses: { 200: { description: 'Metrics', schema: TrainingMetricsResponse }, 403: { description: 'Not the owner' } },
      handler: async ({ params, query, user }) => {
        const job = await requireOwnTrainingJob(deps.db, params.job_id, user.id);
        const attempt = query.attempt ?? job.attempt;
        const { rows, total } = await listTrainingMetrics(deps.db, job.id, { attempt, limit: query.limit, offset: query.offset });
        return {
          status: 200,
          body: {
            job_id: job.id,
            attempt,
            metrics: rows.map((row) => ({
              timestep: row.timestep,
              episode_reward: row.episode_reward,
              episode_length: row.episode_length,
              fps: row.fps,
              loss: row.loss,
              progress_percentage: row.progress_percentage,
              recorded_at: row.reported_at.toISOString(),
            })),
            total,
            limit: query.limit,
            offset: query.offset,
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/training/jobs/:job_id/cancel',
      summary: 'Cancel a training job',
      tags: ['training'],
      waitFor: trainingJobsProjection,
      auth: 'required',
      request: { params: JobParams },
      responses: {
        200: {
          description: 'A pending job is cancelled at once; a running one answers `running` with `cancel_requested: true` until its worker has stopped the trainer',
          schema: TrainingJobResponse,
        },
        400: { description: 'The job has already finished' },
        403: { description: 'Not the owner' },
      },
      handler: async (ctx) => {
        const outcome = await requestTrainingCancel(ctx.command, ctx.params.job_id, ctx.user.id);
        await ctx.caughtUp({ streamId: trainingJobStreamId(ctx.params.job_id), revision: outcome.revision });
        return { status: 200, body: trainingJobBody(await requireOwnTrainingJob(deps.db, ctx.params.job_id, ctx.user.id)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/training/jobs/:job_id/artifact',
      summary: "Download a completed job's trained policy (lapxcel-policy JSON for built-in trainers)",
      tags: ['training'],
      auth: 'required',
      request: { params: JobParams },
      responses: {
        200: {
          description: 'The policy artefact: lapxcel-policy JSON (built-in trainers) or opaque bytes (external trainers)',
          schema: z.record(z.string(), z.unknown()),
          alternatives: { 'application/octet-stream': undefined },
        },
        403: { description: 'Not the owner' },
        404: { description: 'No such job, or no artefact (the job has not completed)' },
      },
      handler: async ({ params, user, res }) => {
        const job = await requireOwnTrainingJob(deps.db, params.job_id, user.id);
        if (job.artifact_key === null) throw new NotFoundError(`Training job has no artefact (status: ${job.status})`, { status: job.status });
        const bytes = await artifacts.get(job.artifact_key);
        const json = bytes.length > 0 && bytes[0] === 0x7b; // '{': the lapxcel-policy format
        res
          .status(200)
          .type(json ? 'application/json' : 'application/octet-stream')
          .setHeader('Content-Disposition', `attachment; filename="policy-${job.id}.${json ? 'json' : 'bin'}"`)
          .send(bytes);
        return 'handled';
      },
    }),
    defineRoute({
      method: 'post',
      path: '/training/jobs/:job_id/arena-submission',
      summary: "Enter a completed pong DQN job's policy as a new submission of one of your pong agents",
      tags: ['training', 'submissions'],
      waitFor: submissionsProjection,
      auth: 'required',
      rateLimit: 'submissions',
      request: { params: JobParams, body: ArenaSubmissionBody },
      responses: {
        201: { description: 'Submitted; the arena builds it like an upload', schema: ArenaSubmissionResponse },
        400: { description: 'The job has not completed, is not a pong DQN job, or the agent does not play pong' },
        403: { description: 'Not the owner of the job or of the agent' },
        404: { description: 'No such job or agent' },
        429: { description: 'Submission rate limit (per minute) or daily quota exceeded' },
      },
      handler: async (ctx) => {
        const outcome = await enterPolicyInArena(
          ctx.command,
          { artifacts, dailyQuota: deps.config.ARENA_SUBMISSIONS_PER_DAY },
          { jobId: ctx.params.job_id, agentId: ctx.body.agent_id, userId: ctx.user.id },
        );
        const received = outcome.events.find((event) => event.type === 'SubmissionReceived');
        if (received?.type !== 'SubmissionReceived') throw new Error('submission was not recorded');
        return {
          status: 201,
          // Read-your-writes on the arena's own submission read model.
          written: { streamId: submissionStreamId(outcome.submissionId), revision: outcome.revision },
          body: {
            id: outcome.submissionId,
            agent_id: received.data.agentId,
            version: received.data.version,
            status: 'queued',
            training_job_id: ctx.params.job_id,
            created_at: received.data.receivedAt,
          },
        };
      },
    }),
    ...trainingRunnerRoutes(deps),
  ];
}
