import { UnprocessableError, NotFoundError } from '../../domain/shared/errors';
import type { CommandServices } from '../../commands/command-states';
import { sessionLap, userLaps } from '../../projections/clickhouse/racing/telemetry-analytics-queries';
import { leaderboardEntries } from '../../projections/postgres/racing/leaderboard-queries';
import { requireOwnedTelemetrySession, sessionCounts } from '../../projections/postgres/racing/telemetry-session-queries';
import { defineRoute } from '../shared/route';
import { comparisonReport, consistencyReport, deltaReport, lapTrace, overviewReport } from './analytics-reports';
import {
  CompareBody,
  CompareResponse,
  ConsistencyQuery,
  ConsistencyResponse,
  DeltaQuery,
  DeltaResponse,
  LeaderboardQuery,
  LeaderboardResponse,
  OverviewQuery,
  OverviewResponse,
} from './analytics-schemas';

const DAY_MS = 24 * 3600 * 1000;
const PERIOD_MS = { daily: DAY_MS, weekly: 7 * DAY_MS, monthly: 30 * DAY_MS, all_time: null } as const;

/**
 * The Analytics part of the LapXcel contract. Per-user numbers come from the ClickHouse `laps` and
 * `telemetry_points` tables (filled asynchronously from the event stream: a lap appears there
 * shortly after its upload); the leaderboard from its PostgreSQL projection. A user only ever sees
 * their own sessions; the leaderboard is global.
 */
export function analyticsRoutes(services: CommandServices) {
  const { analytics, db } = services;
  return [
    defineRoute({
      method: 'get',
      path: '/analytics/performance/overview',
      summary: 'Totals, best and average lap, consistency, trend, tracks and cars over a period',
      tags: ['analytics'],
      auth: 'required',
      request: { query: OverviewQuery },
      responses: { 200: { description: 'Overview', schema: OverviewResponse } },
      handler: async ({ query, user }) => {
        const windowMs = PERIOD_MS[query.period];
        const filter = {
          userId: user.id,
          trackName: query.track_name,
          carModel: query.car_model,
          sinceMs: windowMs === null ? undefined : services.now().getTime() - windowMs,
        };
        // Session counts from every session (with laps or not); lap figures from the laps.
        const [laps, sessions] = await Promise.all([userLaps(analytics, filter), sessionCounts(db, filter)]);
        return { status: 200, body: { status: 'success', data: { ...overviewReport(laps, sessions), period: query.period } } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/analytics/consistency',
      summary: 'Lap-time statistics and per-sector consistency of your valid laps',
      tags: ['analytics'],
      auth: 'required',
      request: { query: ConsistencyQuery },
      responses: { 200: { description: 'Consistency', schema: ConsistencyResponse }, 403: { description: "Another user's session" }, 404: { description: 'No such session' } },
      handler: async ({ query, user }) => {
        if (query.session_id !== undefined) await requireOwnedTelemetrySession(db, query.session_id, user.id);
        const laps = await userLaps(analytics, { userId: user.id, sessionId: query.session_id, trackName: query.track_name, carModel: query.car_model });
        return { status: 200, body: { status: 'success', data: consistencyReport(laps) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/analytics/compare/sessions',
      summary: 'Compare two of your sessions: deltas, Welch t-test significance, recommendations',
      tags: ['analytics'],
      auth: 'required',
      request: { body: CompareBody },
      responses: {
        200: { description: 'Comparison (deltas are primary − secondary)', schema: CompareResponse },
        403: { description: "Another user's session" },
        404: { description: 'No such session' },
        422: { description: 'The sessions are on different tracks' },
      },
      handler: async ({ body, user }) => {
        const [primary, secondary] = await Promise.all([
          requireOwnedTelemetrySession(db, body.primary_session_id, user.id),
          requireOwnedTelemetrySession(db, body.secondary_session_id, user.id),
        ]);
        if (primary.track_name !== secondary.track_name) {
          throw new UnprocessableError(`Sessions are on different tracks (${primary.track_name}, ${secondary.track_name}): lap times do not compare`, {
            location: 'body',
            fields: { secondary_session_id: `is on ${secondary.track_name}, the primary session on ${primary.track_name}` },
          });
        }
        const [primaryLaps, secondaryLaps] = await Promise.all([
          userLaps(analytics, { userId: user.id, sessionId: primary.id }),
          userLaps(analytics, { userId: user.id, sessionId: secondary.id }),
        ]);
        const data = await comparisonReport(analytics, primaryLaps, secondaryLaps, {
          detailed: body.comparison_type === 'detailed',
          trackLengthM: primary.track_length_m ?? secondary.track_length_m,
        });
        return { status: 200, body: { status: 'success', data } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/analytics/laps/delta',
      summary: 'Delta time between two laps along the track, at N evenly spaced positions',
      tags: ['analytics'],
      auth: 'required',
      request: { query: DeltaQuery },
      responses: {
        200: { description: 'Elapsed times and delta (B − A) by track position', schema: DeltaResponse },
        403: { description: "Another user's session" },
        404: { description: 'No such session or lap' },
        422: { description: 'A lap has no position data' },
      },
      handler: async ({ query, user }) => {
        const [sessionA, sessionB] = await Promise.all([
          requireOwnedTelemetrySession(db, query.session_a, user.id),
          requireOwnedTelemetrySession(db, query.session_b, user.id),
        ]);
        const lap = async (sessionId: string, lapNumber: number, field: string) => {
          const found = await sessionLap(analytics, sessionId, lapNumber);
          if (found === undefined) throw new NotFoundError(`Lap ${lapNumber} of session ${sessionId} not found`, { field });
          const trace = await lapTrace(analytics, found);
          if (trace === null) {
            throw new UnprocessableError(`Lap ${lapNumber} of session ${sessionId} has no normalized_car_position data to align by`, {
              location: 'query',
              fields: { [field]: 'lap has no position data' },
            });
          }
          return { found, trace };
        };
        const [a, b] = await Promise.all([lap(sessionA.id, query.lap_a, 'lap_a'), lap(sessionB.id, query.lap_b, 'lap_b')]);
        const trackLengthM = sessionA.track_length_m ?? sessionB.track_length_m;
        return {
          status: 200,
          body: {
            status: 'success',
            data: {
              session_a: sessionA.id,
              lap_a: query.lap_a,
              session_b: sessionB.id,
              lap_b: query.lap_b,
              lap_time_a: a.found.lapTimeMs / 1000,
              lap_time_b: b.found.lapTimeMs / 1000,
              track_length_m: trackLengthM,
              samples: deltaReport(a.trace, b.trace, query.points, trackLengthM),
            },
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/analytics/leaderboard',
      summary: 'Best valid lap per user on a track + car, overall or per sector',
      tags: ['analytics'],
      auth: 'optional',
      request: { query: LeaderboardQuery },
      responses: { 200: { description: 'Leaderboard, fastest first', schema: LeaderboardResponse } },
      handler: async ({ query }) => {
        const rows = await leaderboardEntries(db, {
          trackName: query.track_name,
          carModel: query.car_model,
          category: query.category,
          limit: query.limit,
          includeEstimated: query.include_estimated,
        });
        return {
          status: 200,
          body: {
            status: 'success',
            data: {
              track: query.track_name,
              car: query.car_model,
              category: query.category,
              entries: rows.map((row) => ({
                rank: row.rank,
                user_id: row.user_id,
                username: row.username,
                time: row.time_ms / 1000,
                consistency_score: row.consistency_score,
                record_date: row.record_date.toISOString(),
                is_verified: row.is_verified,
                estimated: row.estimated,
                session_id: row.session_id,
                lap_number: row.lap_number,
              })),
            },
          },
        };
      },
    }),
  ];
}
