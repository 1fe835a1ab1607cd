import type { Knex } from 'knex';
import { TRAINING_JOB_CATEGORY, type TrainingProgressed } from '../../../domain/training/training-job';
import type { RecordedEvent } from '../../../infrastructure/eventstore/event-store';
import { insertOnlyRebuild, postgresProjection } from '../postgres-projection';


/**
 * `training_metrics`: one row per TrainingProgressed, keyed by the event's stream revision (so a
 * redelivered event cannot add a row twice), with the run's attempt: a requeued job restarts at
 * timestep 0 and its earlier run's rows stay queryable by attempt.
 */
export const trainingMetricsProjection = postgresProjection({
  name: 'training_metrics',
  categories: [TRAINING_JOB_CATEGORY],
  tables: ['training_metrics'],
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable('training_metrics')) return;
    await db.schema.createTable('training_metrics', (table) => {
      table.uuid('job_id').notNullable();
      table.bigInteger('revision').notNullable();
      table.integer('attempt').notNullable();
      table.integer('timestep').notNullable();
      table.double('episode_reward');
      table.double('episode_length');
      table.double('fps').notNullable();
      table.double('loss');
      table.double('progress_percentage').notNullable();
      table.timestamp('reported_at', { useTz: true }).notNullable();
      table.primary(['job_id', 'revision']);
      table.index(['job_id', 'attempt', 'revision'], 'training_metrics_by_attempt');
    });
  },
  on: {
    async TrainingProgressed(event, trx) {
      await trx('training_metrics').insert(metricRow(event)).onConflict(['job_id', 'revision']).ignore();
    },
  },
  // A rebuild's pages: one INSERT … SELECT each, no knex (the rows of `on` one by one).
  rebuild: insertOnlyRebuild('TrainingProgressed', 'training_metrics', ['job_id', 'revision'], metricRow),
  batchOn: {
    /** One multi-row insert; of duplicates the first wins, as one by one. */
    async TrainingProgressed(events, trx) {
      for (let start = 0; start < events.length; start += METRIC_INSERT_ROWS) {
        await trx('training_metrics').insert(events.slice(start, start + METRIC_INSERT_ROWS).map(metricRow)).onConflict(['job_id', 'revision']).ignore();
      }
    },
  },
});

/** Rows per INSERT of a batch (10 parameters each). */
const METRIC_INSERT_ROWS = 1000;

function metricRow(event: RecordedEvent<TrainingProgressed>) {
  const { data } = event;
  return {
    job_id: data.jobId,
    revision: event.revision.toString(),
    attempt: data.attempt,
    timestep: data.timestep,
    episode_reward: data.episodeReward,
    episode_length: data.episodeLength,
    fps: data.fps,
    loss: data.loss,
    progress_percentage: data.progressPercentage,
    reported_at: data.reportedAt,
  };
}
