import type { Knex } from 'knex';
import { z } from 'zod';
import { TRAINING_JOB_CATEGORY } from '../../../domain/training/training-job';
import { postgresProjection } from '../postgres-projection';

const nullableNumber = z.number().nullable();
const Created = z.object({
  jobId: z.string(),
  ownerId: z.string(),
  algorithm: z.string(),
  environment: z.string(),
  totalTimesteps: z.number(),
  hyperparameters: z.record(z.string(), z.unknown()),
  environmentOptions: z.record(z.string(), z.number()),
  description: z.string().nullable(),
  runner: z.string(),
  seed: z.number(),
  createdAt: z.string(),
});
const Started = z.object({ jobId: z.string(), workerId: z.string(), attempt: z.number(), startedAt: z.string() });
const Progressed = z.object({
  jobId: z.string(),
  timestep: z.number(),
  episodeReward: nullableNumber,
  episodeLength: nullableNumber,
  fps: z.number(),
  loss: nullableNumber,
  progressPercentage: z.number(),
  estimatedTimeRemainingSec: nullableNumber,
  reportedAt: z.string(),
});
const Heartbeat = z.object({ jobId: z.string(), reportedAt: z.string() });
const CancelRequested = z.object({ jobId: z.string(), requestedAt: z.string() });
const Cancelled = z.object({ jobId: z.string(), timestep: z.number(), reason: z.string(), cancelledAt: z.string() });
const Completed = z.object({
  jobId: z.string(),
  timestep: z.number(),
  artifactKey: z.string(),
  artifactSizeBytes: z.number(),
  meanReturn: nullableNumber,
  completedAt: z.string(),
});
const Failed = z.object({ jobId: z.string(), reason: z.string(), failedAt: z.string() });
const Requeued = z.object({ jobId: z.string(), attempt: z.number(), reason: z.string(), requeuedAt: z.string() });

/**
 * `training_jobs`: one row per job, what the list/get routes and the WebSocket subscribe check
 * read, and what the supervisor scans for runs gone quiet (`last_heartbeat_at`, taken from the
 * events' own times, never the clock).
 */
export const trainingJobsProjection = postgresProjection({
  name: 'training_jobs',
  categories: [TRAINING_JOB_CATEGORY],
  handles: [
    'TrainingJobCreated',
    'TrainingStarted',
    'TrainingProgressed',
    'TrainingHeartbeat',
    'TrainingCancelRequested',
    'TrainingCancelled',
    'TrainingCompleted',
    'TrainingFailed',
    'TrainingRequeued',
  ],
  tables: ['training_jobs'],
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable('training_jobs')) return;
    await db.schema.createTable('training_jobs', (table) => {
      table.uuid('id').primary();
      table.uuid('owner_id').notNullable();
      table.text('algorithm').notNullable();
      table.text('environment').notNullable();
      table.text('description');
      table.text('runner').notNullable();
      table.bigInteger('seed').notNullable();
      table.jsonb('hyperparameters').notNullable();
      table.jsonb('environment_options').notNullable();
      table.text('status').notNullable();
      table.integer('total_timesteps').notNullable();
      table.integer('current_timestep').notNullable().defaultTo(0);
      table.double('progress_percentage').notNullable().defaultTo(0);
      table.double('episode_reward');
      table.double('episode_length');
      table.double('fps');
      table.double('loss');
      table.double('estimated_time_remaining');
      table.integer('attempt').notNullable().defaultTo(0);
      table.text('worker_id');
      table.boolean('cancel_requested').notNullable().defaultTo(false);
      table.text('status_reason');
      table.text('artifact_key');
      table.bigInteger('artifact_size_bytes');
      table.double('mean_return');
      table.timestamp('created_at', { useTz: true }).notNullable();
      table.timestamp('started_at', { useTz: true });
      table.timestamp('finished_at', { useTz: true });
      table.timestamp('last_heartbeat_at', { useTz: true });
      table.timestamp('updated_at', { useTz: true }).notNullable();
      table.index(['owner_id', 'created_at'], 'training_jobs_by_owner');
      table.index(['status', 'last_heartbeat_at'], 'training_jobs_by_status');
    });
  },
  async apply(event, trx) {
    const row = (jobId: string) => trx('training_jobs').where({ id: jobId });
    switch (event.type) {
      case 'TrainingJobCreated': {
        const data = Created.parse(event.data);
        await trx('training_jobs')
          .insert({
            id: data.jobId,
            owner_id: data.ownerId,
            algorithm: data.algorithm,
            environment: data.environment,
            description: data.description,
            runner: data.runner,
            seed: data.seed,
            hyperparameters: JSON.stringify(data.hyperparameters),
            environment_options: JSON.stringify(data.environmentOptions),
            status: 'pending',
            total_timesteps: data.totalTimesteps,
            created_at: data.createdAt,
            updated_at: data.createdAt,
          })
          .onConflict('id')
          .ignore();
        return;
      }
      case 'TrainingStarted': {
        const data = Started.parse(event.data);
        await row(data.jobId).update({
          status: 'running',
          attempt: data.attempt,
          worker_id: data.workerId,
          started_at: data.startedAt,
          last_heartbeat_at: data.startedAt,
          updated_at: data.startedAt,
          ...restartedRun,
        });
        return;
      }
      case 'TrainingProgressed': {
        const data = Progressed.parse(event.data);
        await row(data.jobId).update({
          current_timestep: data.timestep,
          progress_percentage: data.progressPercentage,
          episode_reward: data.episodeReward,
          episode_length: data.episodeLength,
          fps: data.fps,
          loss: data.loss,
          estimated_time_remaining: data.estimatedTimeRemainingSec,
          last_heartbeat_at: data.reportedAt,
          updated_at: data.reportedAt,
        });
        return;
      }
      case 'TrainingHeartbeat': {
        const data = Heartbeat.parse(event.data);
        await row(data.jobId).update({ last_heartbeat_at: data.reportedAt, updated_at: data.reportedAt });
        return;
      }
      case 'TrainingCancelRequested': {
        const data = CancelRequested.parse(event.data);
        await row(data.jobId).update({ cancel_requested: true, updated_at: data.requestedAt });
        return;
      }
      case 'TrainingCancelled': {
        const data = Cancelled.parse(event.data);
        await row(data.jobId).update({
          status: 'cancelled',
          current_timestep: data.timestep,
          status_reason: data.reason,
          estimated_time_remaining: null,
          finished_at: data.cancelledAt,
          updated_at: data.cancelledAt,
        });
        return;
      }
      case 'TrainingCompleted': {
        const data = Completed.parse(event.data);
        await row(data.jobId).update({
          status: 'completed',
          current_timestep: data.timestep,
          progress_percentage: 100,
          estimated_time_remaining: 0,
          status_reason: null,
          artifact_key: data.artifactKey,
          artifact_size_bytes: data.artifactSizeBytes,
          mean_return: data.meanReturn,
          finished_at: data.completedAt,
          updated_at: data.completedAt,
        });
        return;
      }
      case 'TrainingFailed': {
        const data = Failed.parse(event.data);
        await row(data.jobId).update({
          status: 'failed',
          status_reason: data.reason,
          estimated_time_remaining: null,
          finished_at: data.failedAt,
          updated_at: data.failedAt,
        });
        return;
      }
      case 'TrainingRequeued': {
        const data = Requeued.parse(event.data);
        await row(data.jobId).update({
          status: 'pending',
          worker_id: null,
          status_reason: data.reason,
          updated_at: data.requeuedAt,
          ...restartedRun,
        });
        return;
      }
    }
  },
});

/** A new run starts from timestep 0 ("resume" restarts, docs/training.md). */
const restartedRun = {
  current_timestep: 0,
  progress_percentage: 0,
  episode_reward: null,
  episode_length: null,
  fps: null,
  loss: null,
  estimated_time_remaining: null,
};
