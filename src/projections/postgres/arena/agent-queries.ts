import type { Knex } from 'knex';
import { startOfUtcDay } from '../../../domain/arena/utc-day';

/** Timestamps from PostgreSQL as the contract's ISO strings. */
export const isoOrNull = (value: Date | string | null | undefined): string | null =>
  value === null || value === undefined ? null : new Date(value).toISOString();
export const iso = (value: Date | string): string => new Date(value).toISOString();

export interface AgentRow {
  id: string;
  user_id: string;
  username: string | null;
  name: string;
  description: string | null;
  environment_id: string;
  active_submission_id: string | null;
  elo_rating: number;
  total_matches: number;
  wins: number;
  losses: number;
  draws: number;
  last_match_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Agents that exist: created (a name) and not deleted. */
const visibleAgents = (db: Knex) =>
  db('agents as a')
    .leftJoin('users as u', 'u.id', 'a.user_id')
    .whereNotNull('a.name')
    .whereNull('a.deleted_at');

const AGENT_COLUMNS = [
  'a.id',
  'a.user_id',
  'u.username',
  'a.name',
  'a.description',
  'a.environment_id',
  'a.active_submission_id',
  'a.elo_rating',
  'a.total_matches',
  'a.wins',
  'a.losses',
  'a.draws',
  'a.last_match_at',
  'a.created_at',
  'a.updated_at',
];

export async function findAgent(db: Knex, agentId: string): Promise<AgentRow | undefined> {
  return visibleAgents(db).where('a.id', agentId).first<AgentRow | undefined>(AGENT_COLUMNS);
}

export async function listAgents(
  db: Knex,
  filter: { environment?: string; limit: number; offset: number },
): Promise<{ rows: AgentRow[]; total: number }> {
  const base = () => {
    const query = visibleAgents(db);
    if (filter.environment !== undefined) query.where('a.environment_id', filter.environment);
    return query;
  };
  const [{ count }] = await base().count<{ count: string }[]>('* as count');
  const rows = await base().select<AgentRow[]>(AGENT_COLUMNS).orderBy([{ column: 'a.created_at', order: 'desc' }, { column: 'a.id' }]).limit(filter.limit).offset(filter.offset);
  return { rows, total: Number(count) };
}

export interface AgentMatchLoad {
  /** Matches requested today (UTC) that did not fail. */
  matchesToday: number;
  /** When the agent's last (not failed) match was requested. */
  lastMatchAt: string | null;
  /** Matches queued or running now. */
  openMatches: number;
}

/** A manual match counts for its challenger (agent_1) only; the challenged agent_2 spends nothing of its own (match-slots.ts). */
const OWN_MATCH = `NOT (source = 'manual' AND agent_2_id = ?)`;

const MATCH_LOAD_SQL = `
  SELECT count(*) FILTER (WHERE created_at >= ? AND ${OWN_MATCH})::int AS today,
         max(created_at) FILTER (WHERE ${OWN_MATCH}) AS last_at,
         count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS open
    FROM arena_matches
   WHERE (agent_1_id = ? OR agent_2_id = ?) AND status <> 'failed'`;

export async function agentMatchLoad(db: Knex, agentId: string, now: Date): Promise<AgentMatchLoad> {
  const result = await db.raw<{ rows: { today: number; last_at: Date | null; open: number }[] }>(MATCH_LOAD_SQL, [
    startOfUtcDay(now.toISOString()),
    agentId,
    agentId,
    agentId,
    agentId,
  ]);
  const row = result.rows[0];
  return { matchesToday: row?.today ?? 0, lastMatchAt: isoOrNull(row?.last_at), openMatches: row?.open ?? 0 };
}

export interface OpponentStatsRow {
  opponent_id: string;
  opponent_name: string | null;
  matches_played: number;
  wins: number;
  losses: number;
}

/** Completed matches against each opponent, most played first. */
export async function opponentStats(db: Knex, agentId: string): Promise<OpponentStatsRow[]> {
  const result = await db.raw<{ rows: OpponentStatsRow[] }>(
    `SELECT m.opponent_id, o.name AS opponent_name,
            count(*)::int AS matches_played,
            count(*) FILTER (WHERE m.winner_id = ?)::int AS wins,
            count(*) FILTER (WHERE m.winner_id = m.opponent_id)::int AS losses
       FROM (SELECT CASE WHEN agent_1_id = ? THEN agent_2_id ELSE agent_1_id END AS opponent_id, winner_id
               FROM arena_matches
              WHERE status = 'completed' AND (agent_1_id = ? OR agent_2_id = ?)) m
       LEFT JOIN agents o ON o.id = m.opponent_id
      GROUP BY m.opponent_id, o.name
      ORDER BY matches_played DESC, m.opponent_id`,
    [agentId, agentId, agentId, agentId],
  );
  return result.rows;
}

export interface MatchmakingCandidateRow {
  id: string;
  user_id: string;
  elo_rating: number;
  today: number;
  last_at: Date | null;
  open: number;
}

/** Agents of an environment with a built submission, with what the quota rules need. */
export async function matchmakingCandidates(db: Knex, environmentId: string, now: Date): Promise<MatchmakingCandidateRow[]> {
  const result = await db.raw<{ rows: MatchmakingCandidateRow[] }>(
    `SELECT a.id, a.user_id, a.elo_rating,
            coalesce(m.today, 0)::int AS today, m.last_at, coalesce(m.open, 0)::int AS open
       FROM agents a
       LEFT JOIN LATERAL (
         SELECT count(*) FILTER (WHERE created_at >= ? AND NOT (source = 'manual' AND agent_2_id = a.id)) AS today,
                max(created_at) FILTER (WHERE NOT (source = 'manual' AND agent_2_id = a.id)) AS last_at,
                count(*) FILTER (WHERE status IN ('queued', 'running')) AS open
           FROM arena_matches
          WHERE (agent_1_id = a.id OR agent_2_id = a.id) AND status <> 'failed') m ON true
      WHERE a.name IS NOT NULL AND a.deleted_at IS NULL AND a.active_submission_id IS NOT NULL
        AND a.environment_id = ?
      ORDER BY a.id`,
    [startOfUtcDay(now.toISOString()), environmentId],
  );
  return result.rows;
}
