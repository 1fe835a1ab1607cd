import type { Knex } from 'knex';
import { TRAINING_JOB_CATEGORY, type TrainingProgressed } from '../../../domain/training/training-job';
import { postgresProjection } from '../postgres-projection';
import { jsonColumn } from '../row-fold';


/**
 * `training_jobs`: one row per job, what the list/get routes and the WebSocket subscribe check
 * read, and what the supervisor scans for runs gone quiet (`last_heartbeat_at`, taken from the
 * events' own times, never the clock).
 */
export const trainingJobsProjection = postgresProjection({
  name: 'training_jobs',
  categories: [TRAINING_JOB_CATEGORY],
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
  fold: {
    tables: [{ table: 'training_jobs', key: 'id' }],
    on: {
      TrainingJobCreated({ data }, rows) {
        rows.insertIgnore('training_jobs', {
          id: data.jobId,
          owner_id: data.ownerId,
          algorithm: data.algorithm,
          environment: data.environment,
          description: data.description,
          runner: data.runner,
          seed: data.seed,
          hyperparameters: jsonColumn(data.hyperparameters),
          environment_options: jsonColumn(data.environmentOptions),
          status: 'pending',
          total_timesteps: data.totalTimesteps,
          created_at: data.createdAt,
          updated_at: data.createdAt,
        });
      },
      TrainingStarted({ data }, rows) {
        rows.update('training_jobs', data.jobId, {
          status: 'running',
          attempt: data.attempt,
          worker_id: data.workerId,
          started_at: data.startedAt,
          last_heartbeat_at: data.startedAt,
          updated_at: data.startedAt,
          ...restartedRun,
        });
      },
      TrainingProgressed({ data }, rows) {
        rows.update('training_jobs', data.jobId, progressColumns(data));
      },
      TrainingHeartbeat({ data }, rows) {
        rows.update('training_jobs', data.jobId, { last_heartbeat_at: data.reportedAt, updated_at: data.reportedAt });
      },
      TrainingCancelRequested({ data }, rows) {
        rows.update('training_jobs', data.jobId, { cancel_requested: true, updated_at: data.requestedAt });
      },
      TrainingCancelled({ data }, rows) {
        rows.update('training_jobs', data.jobId, {
          status: 'cancelled',
          current_timestep: data.timestep,
          status_reason: data.reason,
          estimated_time_remaining: null,
          finished_at: data.cancelledAt,
          updated_at: data.cancelledAt,
        });
      },
      TrainingCompleted({ data }, rows) {
        rows.update('training_jobs', data.jobId, {
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
      },
      TrainingFailed({ data }, rows) {
        rows.update('training_jobs', data.jobId, { status: 'failed', status_reason: data.reason, estimated_time_remaining: null, finished_at: data.failedAt, updated_at: data.failedAt });
      },
      TrainingRequeued({ data }, rows) {
        rows.update('training_jobs', data.jobId, { status: 'pending', worker_id: null, status_reason: data.reason, updated_at: data.requeuedAt, ...restartedRun });
      },
    },
  },
  batchOn: {
    /** Each report sets the same columns from itself alone: per job, the last report's update is the one that stays. */
    async TrainingProgressed(events, trx) {
      const last = new Map(events.map(({ data }) => [data.jobId, data]));
      for (const [jobId, data] of last) await jobRow(trx, jobId).update(progressColumns(data));
    },
  },
});

/** The columns a progress report sets: every one from the report, so of several the last wins. */
function progressColumns(data: TrainingProgressed['data']) {
  return {
    current_timestep: data.timestep,
    progress_percentage: data.progressPercentage,
    episode_reward: data.episodeReward,
    episode_length: data.episodeLength,
    fps: data.fps,
    loss: data.loss,
    estimated_time_remaining: data.estimatedTimeRemainingSec,
    last_heartbeat_at: data.reportedAt,
    updated_at: data.reportedAt,
  };
}

const jobRow = (trx: Knex.Transaction, jobId: string) => trx('training_jobs').where({ id: jobId });

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
