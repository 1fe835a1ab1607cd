import type { Knex } from 'knex';
import { LEADERBOARD_TABLE, LEADERBOARD_WITH_ESTIMATED_TABLE } from './racing-leaderboard-projection';

export interface LeaderboardEntryRow {
  rank: number;
  user_id: string;
  username: string | null;
  time_ms: number;
  consistency_score: number | null;
  record_date: Date;
  is_verified: boolean;
  estimated: boolean;
  session_id: string;
  lap_number: number;
  valid_laps: number;
}

/**
 * One board, fastest first. Equal times share a rank (standard competition ranking, 1, 1, 3) and
 * are listed by who set the time first. Usernames come from the users read model when present.
 * `includeEstimated`: the board over measured and estimated laps (docs/telemetry.md).
 */
export async function leaderboardEntries(
  db: Knex,
  query: { trackName: string; carModel: string; category: string; limit: number; includeEstimated?: boolean },
): Promise<LeaderboardEntryRow[]> {
  const result = await db.raw<{ rows: Array<Omit<LeaderboardEntryRow, 'rank'> & { rank: string }> }>(
    `SELECT rank() OVER (ORDER BY l.time_ms) AS rank, l.user_id, u.username, l.time_ms, l.consistency_score,
            l.record_date, l.is_verified, l.estimated, l.session_id, l.lap_number, l.valid_laps
       FROM ${query.includeEstimated === true ? LEADERBOARD_WITH_ESTIMATED_TABLE : LEADERBOARD_TABLE} l
       LEFT JOIN users u ON u.id = l.user_id
      WHERE l.track_name = ? AND l.car_model = ? AND l.category = ?
      ORDER BY l.time_ms, l.record_date, l.user_id
      LIMIT ?`,
    [query.trackName, query.carModel, query.category, query.limit],
  );
  return result.rows.map((row) => ({ ...row, rank: Number(row.rank) }));
}
