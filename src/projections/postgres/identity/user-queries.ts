import type { Knex } from 'knex';
import { z } from 'zod';

const UserRow = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  full_name: z.string().nullable(),
  is_active: z.boolean(),
  is_admin: z.boolean(),
  created_at: z.date(),
  updated_at: z.date(),
  last_login: z.date().nullable(),
});
export type UserRow = z.infer<typeof UserRow>;

export async function findUserById(db: Knex, id: string): Promise<UserRow | undefined> {
  const row: unknown = await db('users').where({ id }).first();
  return row === undefined ? undefined : UserRow.parse(row);
}

export interface UserArenaStats {
  total_agents: number;
  total_matches: number;
  total_wins: number;
}

/**
 * Counts from the arena read models. Before those projections exist (fresh install, or a deployment
 * without the arena) the counts are zero by definition, not by stub: there is nothing to count.
 */
export async function userArenaStats(db: Knex, userId: string): Promise<UserArenaStats> {
  const exists = await db.raw<{ rows: { agents: string | null }[] }>(`SELECT to_regclass('public.agents')::text AS agents`);
  if (!exists.rows[0]?.agents) return { total_agents: 0, total_matches: 0, total_wins: 0 };
  const result = await db.raw<{ rows: { total_agents: string; total_matches: string; total_wins: string }[] }>(
    `SELECT count(*)::text AS total_agents,
            coalesce(sum(total_matches), 0)::text AS total_matches,
            coalesce(sum(wins), 0)::text AS total_wins
       FROM agents WHERE user_id = ? AND deleted_at IS NULL`,
    [userId],
  );
  const row = result.rows[0];
  return { total_agents: Number(row.total_agents), total_matches: Number(row.total_matches), total_wins: Number(row.total_wins) };
}
