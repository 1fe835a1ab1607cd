import type { Knex } from 'knex';

export interface SubmissionRow {
  id: string;
  agent_id: string;
  user_id: string;
  environment_id: string;
  sequence: number;
  version: string;
  status: 'queued' | 'building' | 'success' | 'failed';
  content_hash: string;
  artifact_key: string;
  size_bytes: number;
  docker_image: string | null;
  build_attempt: number;
  build_started_at: Date | null;
  build_completed_at: Date | null;
  build_logs: string;
  failure_reason: string | null;
  created_at: Date;
  is_active: boolean;
}

const withActiveFlag = (db: Knex) =>
  db('arena_submissions as s')
    .leftJoin('agents as a', 'a.id', 's.agent_id')
    .select<SubmissionRow[]>('s.*', db.raw('coalesce(a.active_submission_id = s.id, false) AS is_active'));

export async function findSubmission(db: Knex, submissionId: string): Promise<SubmissionRow | undefined> {
  const rows = await withActiveFlag(db).where('s.id', submissionId);
  return rows[0];
}

/** Newest version first. */
export async function listAgentSubmissions(
  db: Knex,
  agentId: string,
  page: { limit: number; offset: number },
): Promise<{ rows: SubmissionRow[]; total: number }> {
  const [{ count }] = await db('arena_submissions').where({ agent_id: agentId }).count<{ count: string }[]>('* as count');
  const rows = await withActiveFlag(db).where('s.agent_id', agentId).orderBy('s.sequence', 'desc').limit(page.limit).offset(page.offset);
  return { rows, total: Number(count) };
}

/** Mean duration of the last successful builds, for `estimated_completion`; null before the first. */
export async function typicalBuildSeconds(db: Knex): Promise<number | null> {
  const result = await db.raw<{ rows: { seconds: number | null }[] }>(
    `SELECT avg(extract(epoch FROM build_completed_at - build_started_at))::float8 AS seconds
       FROM (SELECT build_started_at, build_completed_at FROM arena_submissions
              WHERE status = 'success' AND build_started_at IS NOT NULL AND build_completed_at IS NOT NULL
              ORDER BY build_completed_at DESC LIMIT 20) recent`,
  );
  return result.rows[0]?.seconds ?? null;
}
