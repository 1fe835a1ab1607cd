import type { Knex } from 'knex';

export interface MatchRow {
  id: string;
  environment_id: string;
  agent_1_id: string;
  agent_2_id: string;
  agent_1_name: string | null;
  agent_2_name: string | null;
  agent_1_username: string | null;
  agent_2_username: string | null;
  submission_1_id: string;
  submission_2_id: string;
  owner_1_id: string;
  owner_2_id: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  winner: 'agent_1' | 'agent_2' | 'draw' | null;
  winner_id: string | null;
  score_1: number | null;
  score_2: number | null;
  total_steps: number | null;
  execution_time_sec: number | null;
  forfeits: unknown[] | null;
  failure_reason: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

const matchesWithNames = (db: Knex) =>
  db('arena_matches as m')
    .leftJoin('agents as a1', 'a1.id', 'm.agent_1_id')
    .leftJoin('agents as a2', 'a2.id', 'm.agent_2_id')
    .leftJoin('users as u1', 'u1.id', 'a1.user_id')
    .leftJoin('users as u2', 'u2.id', 'a2.user_id');

const MATCH_COLUMNS = [
  'm.*',
  'a1.name as agent_1_name',
  'a2.name as agent_2_name',
  'u1.username as agent_1_username',
  'u2.username as agent_2_username',
];

export async function findMatch(db: Knex, matchId: string): Promise<MatchRow | undefined> {
  return matchesWithNames(db).where('m.id', matchId).first<MatchRow | undefined>(MATCH_COLUMNS);
}

export interface MatchFilter {
  environment?: string;
  agentId?: string;
  status?: string;
  limit: number;
  offset: number;
}

/** Newest first. */
export async function listMatches(db: Knex, filter: MatchFilter): Promise<{ rows: MatchRow[]; total: number }> {
  const base = () => {
    const query = matchesWithNames(db);
    if (filter.environment !== undefined) query.where('m.environment_id', filter.environment);
    if (filter.status !== undefined) query.where('m.status', filter.status);
    if (filter.agentId !== undefined) {
      const agentId = filter.agentId;
      query.where((q) => q.where('m.agent_1_id', agentId).orWhere('m.agent_2_id', agentId));
    }
    return query;
  };
  const [{ count }] = await base().count<{ count: string }[]>('* as count');
  const rows = await base()
    .select<MatchRow[]>(MATCH_COLUMNS)
    .orderBy([{ column: 'm.created_at', order: 'desc' }, { column: 'm.id' }])
    .limit(filter.limit)
    .offset(filter.offset);
  return { rows, total: Number(count) };
}

export interface AgentMatchRow {
  id: string;
  status: string;
  opponent_id: string;
  opponent_name: string | null;
  own_score: number | null;
  opponent_score: number | null;
  winner_id: string | null;
  elo_change: number | null;
  created_at: Date;
}

/** An agent's matches from its own side: opponent, own score first, its rating change. Newest first. */
export async function listAgentMatches(
  db: Knex,
  agentId: string,
  page: { limit: number; offset: number },
): Promise<{ rows: AgentMatchRow[]; total: number }> {
  const [{ count }] = await db('arena_matches')
    .where((q) => q.where('agent_1_id', agentId).orWhere('agent_2_id', agentId))
    .count<{ count: string }[]>('* as count');
  const result = await db.raw<{ rows: AgentMatchRow[] }>(
    `SELECT m.id, m.status, m.winner_id, m.created_at,
            CASE WHEN m.agent_1_id = :agent THEN m.agent_2_id ELSE m.agent_1_id END AS opponent_id,
            o.name AS opponent_name,
            CASE WHEN m.agent_1_id = :agent THEN m.score_1 ELSE m.score_2 END AS own_score,
            CASE WHEN m.agent_1_id = :agent THEN m.score_2 ELSE m.score_1 END AS opponent_score,
            CASE WHEN r.match_id IS NULL THEN NULL WHEN r.agent_1_id = :agent THEN r.change_1 ELSE r.change_2 END AS elo_change
       FROM arena_matches m
       LEFT JOIN agents o ON o.id = CASE WHEN m.agent_1_id = :agent THEN m.agent_2_id ELSE m.agent_1_id END
       LEFT JOIN arena_match_ratings r ON r.match_id = m.id
      WHERE m.agent_1_id = :agent OR m.agent_2_id = :agent
      ORDER BY m.created_at DESC, m.id
      LIMIT :limit OFFSET :offset`,
    { agent: agentId, limit: page.limit, offset: page.offset },
  );
  return { rows: result.rows, total: Number(count) };
}

export interface MatchRatingRow {
  match_id: string;
  agent_1_id: string;
  change_1: number;
  agent_2_id: string;
  change_2: number;
}

export async function findMatchRating(db: Knex, matchId: string): Promise<MatchRatingRow | undefined> {
  return db('arena_match_ratings').where({ match_id: matchId }).first<MatchRatingRow | undefined>(['match_id', 'agent_1_id', 'change_1', 'agent_2_id', 'change_2']);
}
