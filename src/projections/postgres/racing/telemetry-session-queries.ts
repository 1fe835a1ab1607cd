import type { Knex } from 'knex';
import { z } from 'zod';
import { runPrepared, type PreparedStatement } from '../../../infrastructure/database/prepared-query';
import { ForbiddenError, NotFoundError } from '../../../domain/shared/errors';
import { TELEMETRY_SESSIONS_TABLE } from './telemetry-sessions-projection';

const nullableNumber = z.union([z.number(), z.string().transform(Number)]).nullable();

const SessionRow = z.object({
  id: z.string(),
  owner_id: z.string(),
  session_name: z.string(),
  track_name: z.string(),
  car_model: z.string(),
  weather_conditions: z.string().nullable(),
  track_temperature: nullableNumber,
  air_temperature: nullableNumber,
  track_length_m: nullableNumber,
  total_laps: z.number(),
  valid_laps: z.number(),
  best_lap_time_ms: z.number().nullable(),
  data_points: z.union([z.number(), z.string().transform(Number)]),
  batches: z.number(),
  session_start: z.date().nullable(),
  last_point_at: z.date().nullable(),
  is_complete: z.boolean(),
  created_at: z.date(),
  completed_at: z.date().nullable(),
});
export type TelemetrySessionRow = z.infer<typeof SessionRow>;

/** A row of a page: the session and the total of the filter (bigint: a string from pg). */
const PagedSessionRow = SessionRow.extend({ total_matching: z.string().transform(Number) });

export async function findTelemetrySession(db: Knex, sessionId: string): Promise<TelemetrySessionRow | undefined> {
  const row: unknown = await db(TELEMETRY_SESSIONS_TABLE).where({ id: sessionId }).first();
  return row === undefined ? undefined : SessionRow.parse(row);
}

/** The session if `userId` owns it: 404 when there is none, 403 when it is someone else's. */
export async function requireOwnedTelemetrySession(db: Knex, sessionId: string, userId: string): Promise<TelemetrySessionRow> {
  const row = await findTelemetrySession(db, sessionId);
  if (row === undefined) throw new NotFoundError('Session not found');
  if (row.owner_id !== userId) throw new ForbiddenError('This session belongs to another user');
  return row;
}

export interface SessionListFilter {
  ownerId: string;
  trackName?: string;
  carModel?: string;
  limit: number;
  offset: number;
}

/**
 * The owner's sessions, newest first, with the total matching the filter (before paging). One
 * statement: the total comes with every row (`count(*) OVER ()`, computed before LIMIT/OFFSET);
 * only a page past the end, which has no row to carry it, costs a second statement for the count.
 */
export async function listTelemetrySessions(db: Knex, filter: SessionListFilter): Promise<{ rows: TelemetrySessionRow[]; total: number }> {
  const base = db(TELEMETRY_SESSIONS_TABLE).where({ owner_id: filter.ownerId });
  if (filter.trackName !== undefined) base.andWhere({ track_name: filter.trackName });
  if (filter.carModel !== undefined) base.andWhere({ car_model: filter.carModel });
  const page: unknown[] = await base
    .clone()
    .select(`${TELEMETRY_SESSIONS_TABLE}.*`, db.raw('count(*) OVER () AS total_matching'))
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'asc' }])
    .limit(filter.limit)
    .offset(filter.offset);
  if (page.length === 0) {
    if (filter.offset === 0) return { rows: [], total: 0 };
    const counted = await base.clone().count<{ count: string }[]>('* as count');
    return { rows: [], total: Number(counted[0]?.count ?? 0) };
  }
  const rows = page.map((row) => PagedSessionRow.parse(row));
  return { rows: rows.map(({ total_matching: _total, ...row }) => row), total: rows[0]!.total_matching };
}

/** A session of a page and the version of its row: another version means the row changed. */
export interface VersionedSessionId {
  id: string;
  /**
   * The row's `xmin`: the transaction that wrote this version of the row. Every update writes a
   * new version with its own transaction's id, a rebuilt table new rows with new ids, and no reader
   * sees another transaction's uncommitted versions: the same id and version are the same content.
   */
  version: string;
}

const SESSION_COLUMNS = [
  'id',
  'owner_id',
  'session_name',
  'track_name',
  'car_model',
  'weather_conditions',
  'track_temperature',
  'air_temperature',
  'track_length_m',
  'total_laps',
  'valid_laps',
  'best_lap_time_ms',
  'data_points',
  'batches',
  'session_start',
  'last_point_at',
  'is_complete',
  'created_at',
  'completed_at',
] as const satisfies readonly (keyof TelemetrySessionRow)[];

/**
 * The page as one row (`<id>/<version>` joined by commas, in page order) and the filter's total:
 * one row to decode instead of one per session.
 */
const PAGE_OF_VERSIONS: PreparedStatement = {
  name: 'telemetry_sessions_page_versions_v2',
  text: `SELECT string_agg(id::text || '/' || version, ',' ORDER BY created_at DESC, id ASC) AS page, max(total_matching)::text AS total_matching
           FROM (SELECT id, created_at, xmin::text AS version, count(*) OVER () AS total_matching
                   FROM ${TELEMETRY_SESSIONS_TABLE}
                  WHERE owner_id = $1 AND ($2::text IS NULL OR track_name = $2) AND ($3::text IS NULL OR car_model = $3)
                  ORDER BY created_at DESC, id ASC
                  LIMIT $4 OFFSET $5) AS page_rows`,
};

const ROWS_BY_ID: PreparedStatement = {
  name: 'telemetry_sessions_rows_by_id_v1',
  text: `SELECT xmin::text AS version, ${SESSION_COLUMNS.join(', ')} FROM ${TELEMETRY_SESSIONS_TABLE} WHERE id = ANY($1::uuid[])`,
};

const COUNT_MATCHING: PreparedStatement = {
  name: 'telemetry_sessions_count_matching_v1',
  text: `SELECT count(*) FROM ${TELEMETRY_SESSIONS_TABLE}
          WHERE owner_id = $1 AND ($2::text IS NULL OR track_name = $2) AND ($3::text IS NULL OR car_model = $3)`,
};

export interface SessionPageVersions {
  total: number;
  /**
   * The page's ids and versions in order, as one string (`<id>/<version>` joined by commas):
   * equal signatures, equal sessions. `pageSessions` splits it, only when a page is not known.
   */
  signature: string;
}

/** The sessions of a page, in order, from its signature. */
export function pageSessions(page: SessionPageVersions): VersionedSessionId[] {
  if (page.signature === '') return [];
  return page.signature.split(',').map((entry) => {
    const slash = entry.indexOf('/');
    return { id: entry.slice(0, slash), version: entry.slice(slash + 1) };
  });
}

/** node-postgres hands int8 (count) back as a string; checked by hand, as this runs on every page. */
function countOf(value: unknown): number {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new Error(`telemetry_sessions page: unexpected count ${String(value)}`);
  return Number(value);
}

/**
 * The page `listTelemetrySessions` would return, as ids and row versions only, with the total
 * matching the filter: what a page costs when the answers of its rows are already known. One
 * prepared statement; a page past the end costs a second for the total, as there.
 */
export async function listTelemetrySessionVersions(db: Knex, filter: SessionListFilter): Promise<SessionPageVersions> {
  const filterValues = [filter.ownerId, filter.trackName ?? null, filter.carModel ?? null];
  const [[page, total] = []] = await runPrepared(db, PAGE_OF_VERSIONS, [...filterValues, filter.limit, filter.offset]);
  if (page === null || page === undefined) {
    if (filter.offset === 0) return { total: 0, signature: '' };
    const [counted] = await runPrepared(db, COUNT_MATCHING, filterValues);
    return { total: countOf(counted?.[0]), signature: '' };
  }
  // Checked by hand: this runs on every page; uuids and transaction ids hold no '/' or ','.
  if (typeof page !== 'string') throw new Error('telemetry_sessions page: unexpected row shape');
  return { total: countOf(total), signature: page };
}

/** A row version (`xmin::text`). */
const VersionText = z.string();

/** The sessions with these ids that exist, each with the version of its row. */
export async function telemetrySessionsByIds(db: Knex, ids: readonly string[]): Promise<{ row: TelemetrySessionRow; version: string }[]> {
  if (ids.length === 0) return [];
  const rows = await runPrepared(db, ROWS_BY_ID, [ids]);
  return rows.map(([version, ...values]) => ({
    version: VersionText.parse(version),
    row: SessionRow.parse(Object.fromEntries(SESSION_COLUMNS.map((column, index) => [column, values[index]]))),
  }));
}

/**
 * The overview's session figures: the owner's sessions (with laps or not), the distinct tracks and
 * cars among them. In a period, a session counts when its last point (or, without points yet, its
 * creation) falls at or after `sinceMs`.
 */
export async function sessionCounts(
  db: Knex,
  filter: { userId: string; trackName?: string; carModel?: string; sinceMs?: number },
): Promise<{ sessions: number; tracks: number; cars: number }> {
  const query = db(TELEMETRY_SESSIONS_TABLE).where({ owner_id: filter.userId });
  if (filter.trackName !== undefined) query.andWhere({ track_name: filter.trackName });
  if (filter.carModel !== undefined) query.andWhere({ car_model: filter.carModel });
  if (filter.sinceMs !== undefined) query.andWhereRaw('coalesce(last_point_at, created_at) >= ?', [new Date(filter.sinceMs).toISOString()]);
  const [row] = await query.select(
    db.raw('count(*)::int AS sessions'),
    db.raw('count(DISTINCT track_name)::int AS tracks'),
    db.raw('count(DISTINCT car_model)::int AS cars'),
  );
  const counts = z.object({ sessions: z.number(), tracks: z.number(), cars: z.number() }).parse(row);
  return counts;
}
