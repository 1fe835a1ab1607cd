import type { Knex } from 'knex';
import type { MatchRated } from '../../../domain/arena/ladder';
import { insertOnlyRebuild, postgresProjection } from '../postgres-projection';

/**
 * `arena_match_ratings`: each rated match with both agents' ratings before and after (the
 * `elo_change` of an agent's match list, the `elo_changes` of match_completed pushes).
 */
export const ladderProjection = postgresProjection({
  name: 'arena_ladder',
  categories: ['ladder'],
  tables: ['arena_match_ratings'],
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable('arena_match_ratings')) return;
    await db.schema.createTable('arena_match_ratings', (table) => {
      table.uuid('match_id').primary();
      table.text('environment_id').notNullable();
      table.uuid('agent_1_id').notNullable();
      table.integer('rating_1_before').notNullable();
      table.integer('rating_1_after').notNullable();
      table.integer('change_1').notNullable();
      table.uuid('agent_2_id').notNullable();
      table.integer('rating_2_before').notNullable();
      table.integer('rating_2_after').notNullable();
      table.integer('change_2').notNullable();
      table.text('winner').notNullable();
      table.double('k_factor').notNullable();
      table.timestamp('rated_at', { useTz: true }).notNullable();
      table.index(['agent_1_id']);
      table.index(['agent_2_id']);
    });
  },
  on: {
    async MatchRated({ data }, trx) {
      await trx('arena_match_ratings').insert(ratingRow(data)).onConflict('match_id').ignore();
    },
  },
  // A rebuild's pages: one INSERT … SELECT each, no knex (the rows of `on` one by one).
  rebuild: insertOnlyRebuild('MatchRated', 'arena_match_ratings', ['match_id'], ({ data }) => ratingRow(data)),
  batchOn: {
    /** One multi-row insert per 1 000 ratings; of duplicates the first wins, as one by one. */
    async MatchRated(events, trx) {
      for (let start = 0; start < events.length; start += 1000) {
        await trx('arena_match_ratings').insert(events.slice(start, start + 1000).map(({ data }) => ratingRow(data))).onConflict('match_id').ignore();
      }
    },
  },
});

function ratingRow(data: MatchRated['data']) {
  return {
    match_id: data.matchId,
    environment_id: data.environmentId,
    agent_1_id: data.agent1.agentId,
    rating_1_before: data.agent1.before,
    rating_1_after: data.agent1.after,
    change_1: data.agent1.change,
    agent_2_id: data.agent2.agentId,
    rating_2_before: data.agent2.before,
    rating_2_after: data.agent2.after,
    change_2: data.agent2.change,
    winner: data.winner,
    k_factor: data.kFactor,
    rated_at: data.ratedAt,
  };
}
