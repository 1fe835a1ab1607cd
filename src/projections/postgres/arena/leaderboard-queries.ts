import type { Knex } from 'knex';
import { isoOrNull } from './agent-queries';

export interface LeaderboardEntry {
  rank: number;
  agent_id: string;
  agent_name: string;
  username: string | null;
  environment_id: string;
  elo_rating: number;
  total_matches: number;
  wins: number;
  losses: number;
  draws: number;
  win_rate: number;
}

/** Percent with one decimal; 0 before the first match. */
export const winRate = (wins: number, totalMatches: number): number =>
  totalMatches === 0 ? 0 : Math.round((wins / totalMatches) * 1000) / 10;

/**
 * Agents with at least one rated match, best first. Ties are broken by wins, then age, then id, so
 * the ranks depend only on rows built from events: a replayed read model gives the same ranks.
 */
export async function leaderboard(
  db: Knex,
  filter: { environment?: string; limit: number; offset: number },
): Promise<{ entries: LeaderboardEntry[]; total: number; updatedAt: string | null }> {
  const environmentClause = filter.environment === undefined ? '' : 'AND a.environment_id = :environment';
  const params = { environment: filter.environment ?? null, limit: filter.limit, offset: filter.offset };
  // Named bindings: no `::` casts in this SQL (knex would read `:int` as a binding).
  const ranked = `
    SELECT a.id AS agent_id, a.name AS agent_name, u.username, a.environment_id, a.elo_rating,
           a.total_matches, a.wins, a.losses, a.draws, a.last_match_at,
           CAST(row_number() OVER (ORDER BY a.elo_rating DESC, a.wins DESC, a.created_at ASC, a.id ASC) AS int) AS rank
      FROM agents a LEFT JOIN users u ON u.id = a.user_id
     WHERE a.name IS NOT NULL AND a.deleted_at IS NULL AND a.total_matches > 0 ${environmentClause}`;
  const rows = await db.raw<{ rows: (Omit<LeaderboardEntry, 'win_rate'> & { last_match_at: Date | null })[] }>(
    `${ranked} ORDER BY rank LIMIT :limit OFFSET :offset`,
    params,
  );
  const summary = await db.raw<{ rows: { total: number; updated_at: Date | null }[] }>(
    `SELECT CAST(count(*) AS int) AS total, max(last_match_at) AS updated_at FROM (${ranked}) r`,
    params,
  );
  return {
    entries: rows.rows.map(({ last_match_at: _lastMatchAt, ...row }) => ({ ...row, win_rate: winRate(row.wins, row.total_matches) })),
    total: summary.rows[0]?.total ?? 0,
    updatedAt: isoOrNull(summary.rows[0]?.updated_at),
  };
}
