import { environments } from '../../domain/arena/environments/registry';
import { NotFoundError } from '../../domain/shared/errors';
import { leaderboard, type LeaderboardEntry } from '../../projections/postgres/arena/leaderboard-queries';
import { defineRoute } from '../shared/route';
import type { ArenaRouteDeps } from './arena-route-support';
import { EnvironmentLeaderboardQuery, EnvironmentParams, LeaderboardQuery, LeaderboardResponse } from './arena-schemas';

const entryBody = (entry: LeaderboardEntry) => ({
  rank: entry.rank,
  agent_id: entry.agent_id,
  agent_name: entry.agent_name,
  username: entry.username,
  elo_rating: entry.elo_rating,
  total_matches: entry.total_matches,
  wins: entry.wins,
  losses: entry.losses,
  win_rate: entry.win_rate,
});

export function leaderboardRoutes(deps: ArenaRouteDeps) {
  const answer = async (filter: { environment?: string; limit: number; offset: number }) => {
    const board = await leaderboard(deps.db, filter);
    return { status: 200, body: { leaderboard: board.entries.map(entryBody), total: board.total, updated_at: board.updatedAt } };
  };
  return [
    defineRoute({
      method: 'get',
      path: '/leaderboard',
      summary: 'Agents ranked by Elo rating (agents with at least one rated match)',
      tags: ['leaderboard'],
      auth: 'none',
      request: { query: LeaderboardQuery },
      responses: { 200: { description: 'Ranked agents', schema: LeaderboardResponse } },
      handler: async ({ query }) => answer(query),
    }),
    defineRoute({
      method: 'get',
      path: '/leaderboard/environment/:envId',
      summary: "One environment's leaderboard",
      tags: ['leaderboard'],
      auth: 'none',
      request: { params: EnvironmentParams, query: EnvironmentLeaderboardQuery },
      responses: { 200: { description: 'Ranked agents', schema: LeaderboardResponse }, 404: { description: 'Unknown environment' } },
      handler: async ({ params, query }) => {
        if (!environments.has(params.envId)) throw new NotFoundError(`Unknown environment "${params.envId}"`);
        return answer({ ...query, environment: params.envId });
      },
    }),
  ];
}
