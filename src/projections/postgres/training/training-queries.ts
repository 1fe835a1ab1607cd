import type { Knex } from 'knex';
import { z } from 'zod';

const nullableNumber = z.union([z.number(), z.string()]).nullable().transform((v) => (v === null ? null : Number(v)));
const count = z.union([z.number(), z.string()]).transform(Number);

const TrainingJobRow = z.object({
  id: z.string(),
  owner_id: z.string(),
  algorithm: z.string(),
  environment: z.string(),
  description: z.string().nullable(),
  runner: z.enum(['built_in', 'external', 'remote']),
  seed: count,
  hyperparameters: z.record(z.string(), z.unknown()),
  environment_options: z.record(z.string(), z.number()),
  status: z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']),
  total_timesteps: z.number(),
  current_timestep: z.number(),
  progress_percentage: z.number(),
  episode_reward: nullableNumber,
  episode_length: nullableNumber,
  fps: nullableNumber,
  loss: nullableNumber,
  estimated_time_remaining: nullableNumber,
  attempt: z.number(),
  worker_id: z.string().nullable(),
  cancel_requested: z.boolean(),
  status_reason: z.string().nullable(),
  artifact_key: z.string().nullable(),
  artifact_size_bytes: nullableNumber,
  mean_return: nullableNumber,
  created_at: z.date(),
  started_at: z.date().nullable(),
  finished_at: z.date().nullable(),
  last_heartbeat_at: z.date().nullable(),
  updated_at: z.date(),
});
export type TrainingJobRow = z.infer<typeof TrainingJobRow>;

const TrainingMetricRow = z.object({
  attempt: z.number(),
  timestep: z.number(),
  episode_reward: nullableNumber,
  episode_length: nullableNumber,
  fps: z.number(),
  loss: nullableNumber,
  progress_percentage: z.number(),
  reported_at: z.date(),
});
export type TrainingMetricRow = z.infer<typeof TrainingMetricRow>;

export async function findTrainingJob(db: Knex, jobId: string): Promise<TrainingJobRow | undefined> {
  const row: unknown = await db('training_jobs').where({ id: jobId }).first();
  return row === undefined ? undefined : TrainingJobRow.parse(row);
}

export interface TrainingJobFilter {
  status?: string;
  /** Case-insensitive. */
  algorithm?: string;
  limit: number;
  offset: number;
}

/** The owner's jobs, newest first. */
export async function listTrainingJobs(db: Knex, ownerId: string, filter: TrainingJobFilter): Promise<{ rows: TrainingJobRow[]; total: number }> {
  const query = db('training_jobs').where({ owner_id: ownerId });
  if (filter.status !== undefined) query.andWhere({ status: filter.status });
  if (filter.algorithm !== undefined) query.andWhereRaw('lower(algorithm) = lower(?)', [filter.algorithm]);
  const [totalRow] = await query.clone().count<{ count: string }[]>('* as count');
  const rows: unknown[] = await query.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(filter.limit).offset(filter.offset);
  return { rows: rows.map((row) => TrainingJobRow.parse(row)), total: count.parse(totalRow?.count ?? 0) };
}

/** One run's metrics in the order they were reported. */
export async function listTrainingMetrics(
  db: Knex,
  jobId: string,
  page: { attempt: number; limit: number; offset: number },
): Promise<{ rows: TrainingMetricRow[]; total: number }> {
  const query = db('training_metrics').where({ job_id: jobId, attempt: page.attempt });
  const [totalRow] = await query.clone().count<{ count: string }[]>('* as count');
  const rows: unknown[] = await query
    .select('attempt', 'timestep', 'episode_reward', 'episode_length', 'fps', 'loss', 'progress_percentage', 'reported_at')
    .orderBy('revision', 'asc')
    .limit(page.limit)
    .offset(page.offset);
  return { rows: rows.map((row) => TrainingMetricRow.parse(row)), total: count.parse(totalRow?.count ?? 0) };
}

/** Running jobs whose run has shown no life since `before` (the supervisor's candidates). */
export async function quietRunningTrainingJobs(
  db: Knex,
  before: Date,
  options: { remote?: boolean; limit?: number } = {},
): Promise<{ id: string; attempt: number; worker_id: string | null }[]> {
  const rows: unknown[] = await db('training_jobs')
    .where({ status: 'running' })
    .andWhere((q) => q.where('last_heartbeat_at', '<', before).orWhereNull('last_heartbeat_at'))
    .andWhere((q) => (options.remote ? q.where('runner', 'remote') : q.whereNot('runner', 'remote')))
    .select('id', 'attempt', 'worker_id')
    .orderBy('last_heartbeat_at', 'asc')
    .limit(options.limit ?? 100);
  return rows.map((row) => z.object({ id: z.string(), attempt: z.number(), worker_id: z.string().nullable() }).parse(row));
}

/** The owner's pending runner jobs for these environments, oldest first: what a runner may claim. */
export async function pendingRemoteTrainingJobs(
  db: Knex,
  ownerId: string,
  serves: { environments: readonly string[]; algorithms?: readonly string[] },
  limit = 20,
): Promise<string[]> {
  const query = db('training_jobs')
    .where({ status: 'pending', runner: 'remote', owner_id: ownerId })
    .whereIn('environment', [...serves.environments]);
  if (serves.algorithms !== undefined) {
    const names = serves.algorithms.map((name) => name.toLowerCase());
    query.whereRaw(`lower(algorithm) in (${names.map(() => '?').join(', ')})`, names);
  }
  const rows: unknown[] = await query
    .select('id')
    .orderBy('created_at', 'asc')
    .limit(limit);
  return rows.map((row) => z.object({ id: z.string() }).parse(row).id);
}
