import type { Knex } from 'knex';
import { postgresProjection } from '../postgres-projection';


/** `arena_matches`: one row per match, its participants, status and result. */
export const matchesProjection = postgresProjection({
  name: 'arena_matches',
  categories: ['match'],
  tables: ['arena_matches'],
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable('arena_matches')) return;
    await db.schema.createTable('arena_matches', (table) => {
      table.uuid('id').primary();
      table.text('environment_id').notNullable();
      table.uuid('agent_1_id').notNullable();
      table.uuid('agent_2_id').notNullable();
      table.uuid('submission_1_id').notNullable();
      table.uuid('submission_2_id').notNullable();
      table.uuid('owner_1_id').notNullable();
      table.uuid('owner_2_id').notNullable();
      table.bigInteger('seed').notNullable();
      table.text('source').notNullable();
      table.uuid('requested_by');
      table.text('status').notNullable();
      table.text('winner');
      table.uuid('winner_id');
      table.integer('score_1');
      table.integer('score_2');
      table.integer('total_steps');
      table.double('execution_time_sec');
      table.jsonb('forfeits');
      table.text('failure_reason');
      table.timestamp('created_at', { useTz: true }).notNullable();
      table.timestamp('started_at', { useTz: true });
      table.timestamp('completed_at', { useTz: true });
      table.index(['agent_1_id', 'created_at']);
      table.index(['agent_2_id', 'created_at']);
      table.index(['environment_id', 'created_at']);
      table.index(['status']);
    });
  },
  fold: {
    tables: [{ table: 'arena_matches', key: 'id' }],
    on: {
      MatchRequested({ data }, rows) {
        rows.insertIgnore('arena_matches', {
          id: data.matchId,
          environment_id: data.environmentId,
          agent_1_id: data.agent1.agentId,
          agent_2_id: data.agent2.agentId,
          submission_1_id: data.agent1.submissionId,
          submission_2_id: data.agent2.submissionId,
          owner_1_id: data.agent1.ownerId,
          owner_2_id: data.agent2.ownerId,
          seed: data.seed,
          source: data.source,
          requested_by: data.requestedBy,
          status: 'queued',
          created_at: data.requestedAt,
        });
      },
      MatchStarted({ data }, rows) {
        rows.update('arena_matches', data.matchId, { status: 'running', started_at: data.startedAt });
      },
      MatchCompleted({ data }, rows) {
        rows.update('arena_matches', data.matchId, {
          status: 'completed',
          winner: data.winner,
          winner_id: data.winnerId,
          score_1: data.score1,
          score_2: data.score2,
          total_steps: data.totalSteps,
          execution_time_sec: data.executionTimeSec,
          forfeits: data.forfeits,
          completed_at: data.completedAt,
        });
      },
      MatchFailed({ data }, rows) {
        rows.update('arena_matches', data.matchId, { status: 'failed', failure_reason: data.reason, completed_at: data.failedAt });
      },
    },
  },
});

