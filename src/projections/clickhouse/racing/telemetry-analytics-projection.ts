import { CHANNEL_NAMES, batchLength, type TelemetryBatchColumns } from '../../../domain/racing/telemetry-batch';
import type { CompactRows } from '../../../infrastructure/analytics/analytics';
import { readTelemetryBatchRecorded, SESSION_CATEGORY } from '../../../domain/racing/telemetry-session-events';
import { clickHouseProjection } from '../clickhouse-projection';

/**
 * ClickHouse tables of the racing context (schema and example SQL in docs/analytics.md):
 * `telemetry_points`, one row per uploaded point, and `laps`, one row per completed lap.
 *
 * Duplicates: each event's rows are inserted with the event id as deduplication token, and the
 * tables remember the last DEDUP_WINDOW inserts, so a redelivered event writes nothing. Both
 * tables are also ReplacingMergeTree on the row's identity ((session_id, ts): a session's
 * timestamps strictly increase; (session_id, lap_number)), so even a duplicate from beyond that
 * window collapses at merge time and `FINAL` reads are exact at any time.
 */

const DEDUP_WINDOW = 10_000;

export const TELEMETRY_POINTS_TABLE = 'telemetry_points';
export const LAPS_TABLE = 'laps';

const createTelemetryPoints = (table: string) => `CREATE TABLE IF NOT EXISTS {db}.${table} (
  session_id UUID,
  user_id UUID,
  track_name LowCardinality(String),
  car_model LowCardinality(String),
  ts DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
  speed_kmh Float32 CODEC(Gorilla, ZSTD(1)),
  throttle_input Float32 CODEC(Gorilla, ZSTD(1)),
  brake_input Float32 CODEC(Gorilla, ZSTD(1)),
  steering_input Float32 CODEC(Gorilla, ZSTD(1)),
  gear Int8 CODEC(ZSTD(1)),
  rpm Float32 CODEC(Gorilla, ZSTD(1)),
  completed_laps Nullable(UInt32) CODEC(Delta, ZSTD(1)),
  normalized_car_position Nullable(Float64) CODEC(Gorilla, ZSTD(1)),
  current_lap_time_ms Nullable(UInt32) CODEC(Delta, ZSTD(1)),
  current_sector_index Nullable(UInt8) CODEC(ZSTD(1)),
  is_in_pit Nullable(Bool) CODEC(ZSTD(1)),
  is_in_pit_lane Nullable(Bool) CODEC(ZSTD(1)),
  is_valid_lap Nullable(Bool) CODEC(ZSTD(1)),
  world_x Nullable(Float64) CODEC(Gorilla, ZSTD(1)),
  world_y Nullable(Float64) CODEC(Gorilla, ZSTD(1)),
  world_z Nullable(Float64) CODEC(Gorilla, ZSTD(1))
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (session_id, ts)
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`;

const createLaps = (table: string) => [
  `CREATE TABLE IF NOT EXISTS {db}.${table} (
  session_id UUID,
  user_id UUID,
  track_name LowCardinality(String),
  car_model LowCardinality(String),
  lap_number UInt32,
  lap_time_ms UInt32,
  sector_times_ms Array(Nullable(UInt32)),
  valid Bool,
  invalid_reasons Array(LowCardinality(String)),
  is_verified Bool,
  started_at DateTime64(3, 'UTC'),
  ended_at DateTime64(3, 'UTC'),
  sample_count UInt32,
  max_speed_kmh Float64,
  mean_speed_kmh Float64,
  distance_m Float64,
  full_throttle_fraction Float64,
  braking_fraction Float64,
  coasting_fraction Float64,
  estimated Bool DEFAULT false
) ENGINE = ReplacingMergeTree
ORDER BY (user_id, session_id, lap_number)
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
  // Tables made before lap estimation existed.
  `ALTER TABLE {db}.${table} ADD COLUMN IF NOT EXISTS estimated Bool DEFAULT false`,
];

/** Columns of a `telemetry_points` row: the session's context, then one per channel (CHANNEL_NAMES). */
export const TELEMETRY_POINT_COLUMNS: readonly string[] = ['session_id', 'user_id', 'track_name', 'car_model', ...CHANNEL_NAMES.map(({ column }) => column)];

/**
 * One row per point, straight from the columns, in compact form (arrays in TELEMETRY_POINT_COLUMNS
 * order): `ts` as epoch ms (ClickHouse reads an integer into DateTime64(3) as milliseconds), `null`
 * where an optional channel is absent.
 */
export function pointRows(context: { sessionId: string; ownerId: string; trackName: string; carModel: string }, columns: TelemetryBatchColumns): CompactRows & { rows: unknown[][] } {
  const channels = CHANNEL_NAMES.map(({ name }) => columns[name]);
  const rows = new Array<unknown[]>(batchLength(columns));
  for (let i = 0; i < rows.length; i += 1) {
    const row: unknown[] = [context.sessionId, context.ownerId, context.trackName, context.carModel];
    for (const channel of channels) row.push(channel === undefined ? null : channel[i]);
    rows[i] = row;
  }
  return { columns: TELEMETRY_POINT_COLUMNS, rows };
}

const LAP_COLUMNS = [
  'session_id', 'user_id', 'track_name', 'car_model', 'lap_number', 'lap_time_ms', 'sector_times_ms', 'valid', 'invalid_reasons', 'is_verified',
  'started_at', 'ended_at', 'sample_count', 'max_speed_kmh', 'mean_speed_kmh', 'distance_m', 'full_throttle_fraction', 'braking_fraction',
  'coasting_fraction', 'estimated',
] as const;

export const telemetryAnalyticsProjection = clickHouseProjection({
  name: 'telemetry_analytics',
  categories: [SESSION_CATEGORY],
  tables: { [TELEMETRY_POINTS_TABLE]: createTelemetryPoints, [LAPS_TABLE]: createLaps },
  on: {
    TelemetryBatchRecorded(event) {
      // The registry checked the envelope; the points are checked here against the upload's rule.
      const data = readTelemetryBatchRecorded(event.data, { checkPoints: true });
      return [{ table: TELEMETRY_POINTS_TABLE, ...pointRows(data, data.columns) }];
    },
    LapCompleted(event) {
      const lap = event.data;
      const row = [
        lap.sessionId, lap.ownerId, lap.trackName, lap.carModel, lap.lapNumber, lap.lapTimeMs, lap.sectorTimesMs, lap.valid, lap.invalidReasons, lap.isVerified,
        lap.startedAtMs, lap.endedAtMs, lap.sampleCount, lap.maxSpeedKmh, lap.meanSpeedKmh, lap.distanceM, lap.fullThrottleFraction, lap.brakingFraction,
        lap.coastingFraction, lap.estimated,
      ];
      return [{ table: LAPS_TABLE, columns: LAP_COLUMNS, rows: [row] }];
    },
  },
});
