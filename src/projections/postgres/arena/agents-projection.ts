import type { Knex } from 'knex';
import { INITIAL_RATING } from '../../../domain/arena/elo';
import type { MatchRated } from '../../../domain/arena/ladder';
import { postgresProjection } from '../postgres-projection';
import { add, greatest } from '../row-fold';


/**
 * The `agents` read model: one row per agent with its rating and record. It reads two categories
 * (agent, ladder) whose topics are not ordered with each other, so every write is an upsert that
 * commutes with the others: a MatchRated seen before its AgentCreated still lands. Rows whose
 * agent was never created (name null) are not shown. Column names user_id, total_matches, wins and
 * deleted_at are read by the identity slice (user-queries.ts).
 */
export const agentsProjection = postgresProjection({
  name: 'arena_agents',
  categories: ['agent', 'ladder'],
  tables: ['agents'],
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable('agents')) return;
    await db.schema.createTable('agents', (table) => {
      table.uuid('id').primary();
      table.uuid('user_id');
      table.text('name');
      table.text('description');
      table.text('environment_id');
      table.uuid('active_submission_id');
      table.text('active_version');
      table.integer('elo_rating').notNullable().defaultTo(INITIAL_RATING);
      table.integer('total_matches').notNullable().defaultTo(0);
      table.integer('wins').notNullable().defaultTo(0);
      table.integer('losses').notNullable().defaultTo(0);
      table.integer('draws').notNullable().defaultTo(0);
      table.timestamp('last_match_at', { useTz: true });
      table.timestamp('created_at', { useTz: true });
      table.timestamp('updated_at', { useTz: true });
      table.timestamp('deleted_at', { useTz: true });
      table.index(['user_id']);
      table.index(['environment_id', 'elo_rating']);
    });
  },
  fold: {
    // A row created by any one event starts with the table's defaults for the record's counters.
    tables: [{ table: 'agents', key: 'id', defaults: { elo_rating: INITIAL_RATING, total_matches: 0, wins: 0, losses: 0, draws: 0, last_match_at: null } }],
    on: {
      AgentCreated({ data }, rows) {
        const row = { user_id: data.ownerId, name: data.name, description: data.description, environment_id: data.environmentId, created_at: data.createdAt, updated_at: data.createdAt };
        rows.upsert('agents', { id: data.agentId, ...row }, row);
      },
      AgentUpdated({ data }, rows) {
        rows.update('agents', data.agentId, { updated_at: data.updatedAt, name: data.name, description: data.description });
      },
      AgentDeleted({ data }, rows) {
        rows.upsert('agents', { id: data.agentId, deleted_at: data.deletedAt }, { deleted_at: data.deletedAt });
      },
      ActiveSubmissionChanged({ data }, rows) {
        const row = { active_submission_id: data.submissionId, active_version: data.version };
        rows.upsert('agents', { id: data.agentId, ...row }, row);
      },
      MatchRated({ data }, rows) {
        for (const side of ratedSides(data)) {
          rows.upsert(
            'agents',
            { id: side.agentId, elo_rating: side.rating, total_matches: side.matches, wins: side.wins, losses: side.losses, draws: side.draws, last_match_at: side.lastMatchAt },
            { elo_rating: side.rating, total_matches: add(side.matches), wins: add(side.wins), losses: add(side.losses), draws: add(side.draws), last_match_at: greatest(side.lastMatchAt) },
          );
        }
      },
    },
  },
  batchOn: {
    /**
     * Per agent, its sides of the run added up: the counts summed, the last rating kept, the latest
     * match time; one upsert for all (each agent once), the same row as one side after the other.
     */
    async MatchRated(events, trx) {
      const byAgent = new Map<string, RatedSide>();
      for (const { data } of events) {
        for (const side of ratedSides(data)) {
          const seen = byAgent.get(side.agentId);
          byAgent.set(
            side.agentId,
            seen
              ? {
                  agentId: side.agentId,
                  rating: side.rating,
                  matches: seen.matches + 1,
                  wins: seen.wins + side.wins,
                  losses: seen.losses + side.losses,
                  draws: seen.draws + side.draws,
                  lastMatchAt: Date.parse(side.lastMatchAt) > Date.parse(seen.lastMatchAt) ? side.lastMatchAt : seen.lastMatchAt,
                }
              : side,
          );
        }
      }
      await recordMatches(trx, [...byAgent.values()]);
    },
  },
});

/** One agent's share of rated matches: its rating after the last, and what it won, lost and drew. */
interface RatedSide {
  agentId: string;
  rating: number;
  matches: number;
  wins: number;
  losses: number;
  draws: number;
  lastMatchAt: string;
}

function ratedSides(data: MatchRated['data']): RatedSide[] {
  const draw = data.winner === 'draw' ? 1 : 0;
  return [
    { side: data.agent1, won: data.winner === 'agent_1', lost: data.winner === 'agent_2' },
    { side: data.agent2, won: data.winner === 'agent_2', lost: data.winner === 'agent_1' },
  ].map(({ side, won, lost }) => ({ agentId: side.agentId, rating: side.after, matches: 1, wins: won ? 1 : 0, losses: lost ? 1 : 0, draws: draw, lastMatchAt: data.ratedAt }));
}

/** Adds the sides (one per agent) to the agents' rows, creating a row for an agent not seen yet. */
async function recordMatches(trx: Knex.Transaction, sides: RatedSide[]): Promise<void> {
  if (sides.length === 0) return;
  await trx('agents')
    .insert(
      sides.map((side) => ({
        id: side.agentId,
        elo_rating: side.rating,
        total_matches: side.matches,
        wins: side.wins,
        losses: side.losses,
        draws: side.draws,
        last_match_at: side.lastMatchAt,
      })),
    )
    .onConflict('id')
    .merge({
      elo_rating: trx.raw('excluded.elo_rating'),
      total_matches: trx.raw('agents.total_matches + excluded.total_matches'),
      wins: trx.raw('agents.wins + excluded.wins'),
      losses: trx.raw('agents.losses + excluded.losses'),
      draws: trx.raw('agents.draws + excluded.draws'),
      last_match_at: trx.raw('greatest(agents.last_match_at, excluded.last_match_at)'),
    });
}
