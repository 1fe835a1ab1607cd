import type { Knex } from 'knex';
import { postgresProjection } from '../postgres-projection';


/** `arena_submissions`: one row per submission with its build status and the latest build's log. */
export const submissionsProjection = postgresProjection({
  name: 'arena_submissions',
  categories: ['submission'],
  tables: ['arena_submissions'],
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable('arena_submissions')) return;
    await db.schema.createTable('arena_submissions', (table) => {
      table.uuid('id').primary();
      table.uuid('agent_id').notNullable();
      table.uuid('user_id').notNullable();
      table.text('environment_id').notNullable();
      table.integer('sequence').notNullable();
      table.text('version').notNullable();
      table.text('status').notNullable();
      table.text('content_hash').notNullable();
      table.text('artifact_key').notNullable();
      table.integer('size_bytes').notNullable();
      table.text('docker_image');
      table.integer('build_attempt').notNullable().defaultTo(0);
      table.timestamp('build_started_at', { useTz: true });
      table.timestamp('build_completed_at', { useTz: true });
      table.text('build_logs').notNullable().defaultTo('');
      table.text('failure_reason');
      table.timestamp('created_at', { useTz: true }).notNullable();
      table.timestamp('updated_at', { useTz: true }).notNullable();
      table.index(['agent_id', 'sequence']);
    });
  },
  fold: {
    tables: [{ table: 'arena_submissions', key: 'id' }],
    on: {
      SubmissionReceived({ data }, rows) {
        rows.insertIgnore('arena_submissions', {
          id: data.submissionId,
          agent_id: data.agentId,
          user_id: data.ownerId,
          environment_id: data.environmentId,
          sequence: data.sequence,
          version: data.version,
          status: 'queued',
          content_hash: data.contentHash,
          artifact_key: data.artifactKey,
          size_bytes: data.sizeBytes,
          created_at: data.receivedAt,
          updated_at: data.receivedAt,
        });
      },
      BuildStarted({ data }, rows) {
        rows.update('arena_submissions', data.submissionId, {
          status: 'building',
          build_attempt: data.attempt,
          build_started_at: data.startedAt,
          build_completed_at: null,
          docker_image: null,
          failure_reason: null,
          updated_at: data.startedAt,
        });
      },
      BuildSucceeded({ data }, rows) {
        rows.update('arena_submissions', data.submissionId, {
          status: 'success',
          docker_image: data.environmentRef,
          build_completed_at: data.completedAt,
          build_logs: data.log,
          updated_at: data.completedAt,
        });
      },
      BuildFailed({ data }, rows) {
        rows.update('arena_submissions', data.submissionId, {
          status: 'failed',
          failure_reason: data.reason,
          build_completed_at: data.completedAt,
          build_logs: data.log,
          updated_at: data.completedAt,
        });
      },
      RebuildRequested({ data }, rows) {
        rows.update('arena_submissions', data.submissionId, { status: 'queued', docker_image: null, build_started_at: null, build_completed_at: null, updated_at: data.requestedAt });
      },
    },
  },
});
