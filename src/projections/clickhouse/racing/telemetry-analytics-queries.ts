import { z } from 'zod';
import type { LapSummary } from '../../../domain/racing/lap-statistics';
import type { TelemetrySample } from '../../../domain/racing/telemetry-batch';
import type { Analytics } from '../../../infrastructure/analytics/analytics';
import { LAPS_TABLE, TELEMETRY_POINTS_TABLE } from './telemetry-analytics-projection';

/** Reads of the racing analytics tables for the /analytics endpoints. */

const LapRowSchema = z.object({
  session_text: z.string(),
  track_name: z.string(),
  car_model: z.string(),
  lap_number: z.coerce.number(),
  lap_time_ms: z.coerce.number(),
  sector_times_ms: z.array(z.coerce.number().nullable()),
  valid: z.boolean(),
  is_verified: z.boolean(),
  started_at_ms: z.coerce.number(),
  ended_at_ms: z.coerce.number(),
  full_throttle_fraction: z.number(),
  estimated: z.boolean(),
});

export interface AnalyticsLap extends LapSummary {
  sessionId: string;
  trackName: string;
  carModel: string;
  lapNumber: number;
  isVerified: boolean;
  /** Found without positions (docs/telemetry.md, "Laps without positions"). */
  estimated: boolean;
  startedAtMs: number;
  endedAtMs: number;
}

// Aliases must not reuse column names: ClickHouse would resolve WHERE session_id = … to the alias.
const LAP_COLUMNS = `toString(session_id) AS session_text, track_name, car_model, lap_number, lap_time_ms, sector_times_ms, valid,
  is_verified, toUnixTimestamp64Milli(started_at) AS started_at_ms, toUnixTimestamp64Milli(ended_at) AS ended_at_ms, full_throttle_fraction, estimated`;

function toLap(row: z.infer<typeof LapRowSchema>): AnalyticsLap {
  return {
    sessionId: row.session_text,
    trackName: row.track_name,
    carModel: row.car_model,
    lapNumber: row.lap_number,
    lapTimeMs: row.lap_time_ms,
    sectorTimesMs: row.sector_times_ms,
    valid: row.valid,
    isVerified: row.is_verified,
    estimated: row.estimated,
    startedAtMs: row.started_at_ms,
    endedAtMs: row.ended_at_ms,
    fullThrottleFraction: row.full_throttle_fraction,
  };
}

export interface UserLapFilter {
  userId: string;
  trackName?: string;
  carModel?: string;
  /** Laps that ended at or after this instant (epoch ms); omitted = all time. */
  sinceMs?: number;
  sessionId?: string;
}

/** A user's laps, chronological (FINAL: exact even before background merges). */
export async function userLaps(analytics: Analytics, filter: UserLapFilter): Promise<AnalyticsLap[]> {
  const conditions = ['user_id = {userId:UUID}'];
  const params: Record<string, unknown> = { userId: filter.userId };
  if (filter.trackName !== undefined) {
    conditions.push('track_name = {trackName:String}');
    params.trackName = filter.trackName;
  }
  if (filter.carModel !== undefined) {
    conditions.push('car_model = {carModel:String}');
    params.carModel = filter.carModel;
  }
  if (filter.sinceMs !== undefined) {
    conditions.push('ended_at >= fromUnixTimestamp64Milli({sinceMs:Int64}, \'UTC\')');
    params.sinceMs = filter.sinceMs;
  }
  if (filter.sessionId !== undefined) {
    conditions.push('session_id = {sessionId:UUID}');
    params.sessionId = filter.sessionId;
  }
  const rows = await analytics.query(
    `SELECT ${LAP_COLUMNS} FROM {db}.${LAPS_TABLE} FINAL WHERE ${conditions.join(' AND ')} ORDER BY ended_at, session_id, lap_number`,
    params,
    LapRowSchema,
  );
  return rows.map(toLap);
}

export async function sessionLap(analytics: Analytics, sessionId: string, lapNumber: number): Promise<AnalyticsLap | undefined> {
  const rows = await analytics.query(
    `SELECT ${LAP_COLUMNS} FROM {db}.${LAPS_TABLE} FINAL WHERE session_id = {sessionId:UUID} AND lap_number = {lapNumber:UInt32}`,
    { sessionId, lapNumber },
    LapRowSchema,
  );
  return rows[0] === undefined ? undefined : toLap(rows[0]);
}

const PointRowSchema = z.object({
  ts_ms: z.coerce.number(),
  speed_kmh: z.number(),
  throttle_input: z.number(),
  brake_input: z.number(),
  steering_input: z.number(),
  gear: z.number(),
  rpm: z.number(),
  normalized_car_position: z.number().nullable(),
});

/**
 * A session's points with fromMs <= ts <= toMs, in time order, as samples for the lap trace
 * (the channels the trace and the braking analysis use; the others are null).
 */
export async function sessionSamples(analytics: Analytics, sessionId: string, fromMs: number, toMs: number): Promise<TelemetrySample[]> {
  const rows = await analytics.query(
    `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, speed_kmh, throttle_input, brake_input, steering_input, gear, rpm, normalized_car_position
       FROM {db}.${TELEMETRY_POINTS_TABLE}
      WHERE session_id = {sessionId:UUID}
        AND ts BETWEEN fromUnixTimestamp64Milli({fromMs:Int64}, 'UTC') AND fromUnixTimestamp64Milli({toMs:Int64}, 'UTC')
      ORDER BY ts
      LIMIT 1 BY ts`,
    { sessionId, fromMs, toMs },
    PointRowSchema,
  );
  return rows.map((row) => ({
    timestampMs: row.ts_ms,
    speedKmh: row.speed_kmh,
    throttleInput: row.throttle_input,
    brakeInput: row.brake_input,
    steeringInput: row.steering_input,
    gear: row.gear,
    rpm: row.rpm,
    completedLaps: null,
    normalizedCarPosition: row.normalized_car_position,
    currentLapTimeMs: null,
    currentSectorIndex: null,
    isInPit: null,
    isInPitLane: null,
    isValidLap: null,
    worldX: null,
    worldY: null,
    worldZ: null,
  }));
}

/** Rows in `telemetry_points` for a session (exact: duplicates collapsed). */
export async function countSessionPoints(analytics: Analytics, sessionId: string): Promise<number> {
  const [row] = await analytics.query(
    `SELECT count() AS points FROM {db}.${TELEMETRY_POINTS_TABLE} FINAL WHERE session_id = {sessionId:UUID}`,
    { sessionId },
    z.object({ points: z.coerce.number() }),
  );
  return row?.points ?? 0;
}
