import { CHANNEL_NAMES, OPTIONAL_BOOLEAN_CHANNELS, batchLength, type Channel, type TelemetryBatchColumns } from '../../../domain/racing/telemetry-batch';
import type { CompactRows } from '../../../infrastructure/analytics/analytics';
import { blockRows, type BlockColumn, type ColumnBlock } from '../../../infrastructure/analytics/column-block';
import { readTelemetryBatchRecorded, SESSION_CATEGORY } from '../../../domain/racing/telemetry-session-events';
import { clickHouseProjection } from '../clickhouse-projection';

/**
 * ClickHouse tables of the racing context (schema and example SQL in docs/analytics.md):
 * `telemetry_points`, one row per uploaded point, and `laps`, one row per completed lap.
 *
 * Duplicates: a row's identity is (session_id, ts) (a session's timestamps strictly increase) and
 * (session_id, lap_number). The runner leaves out rows whose identity a table already holds, so a
 * redelivered event writes nothing, whatever batch it comes in; inserts also carry a
 * deduplication token and the tables remember the last DEDUP_WINDOW inserts. Both tables are
 * ReplacingMergeTree on that identity too, so a duplicate written by a concurrent writer (two
 * processes on one ClickHouse server) collapses at merge time, and `FINAL` reads are exact at any time.
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

type PointContext = { sessionId: string; ownerId: string; trackName: string; carModel: string };

const BOOLEAN_CHANNELS = new Set<Channel>(OPTIONAL_BOOLEAN_CHANNELS);

/**
 * One row per point, straight from the columns, as a columnar block in TELEMETRY_POINT_COLUMNS
 * order: the context as one run per column, `ts` as epoch ms, every channel as a typed array,
 * `null` where an optional channel is absent (from the batch, or at a point).
 */
export function pointBlock(context: PointContext, columns: TelemetryBatchColumns): ColumnBlock {
  const rowCount = batchLength(columns);
  const run = (name: string, value: string): BlockColumn => ({ name, kind: 'text', runs: [{ value, count: rowCount }] });
  const blockColumns: BlockColumn[] = [run('session_id', context.sessionId), run('user_id', context.ownerId), run('track_name', context.trackName), run('car_model', context.carModel)];
  for (const { name, column } of CHANNEL_NAMES) {
    const channel: ReadonlyArray<number | boolean | null> | undefined = columns[name];
    if (name === 'timestampMs') {
      blockColumns.push({ name: column, kind: 'epochMs', values: Float64Array.from(columns.timestampMs) });
      continue;
    }
    const isBoolean = BOOLEAN_CHANNELS.has(name);
    const values = isBoolean ? new Uint8Array(rowCount) : new Float64Array(rowCount);
    let nulls: Uint8Array | null = null;
    if (channel === undefined) nulls = new Uint8Array(rowCount).fill(1);
    else {
      for (let i = 0; i < rowCount; i += 1) {
        const value = channel[i];
        if (value === null || value === undefined) (nulls ??= new Uint8Array(rowCount))[i] = 1;
        else values[i] = value === true ? 1 : value === false ? 0 : value;
      }
    }
    blockColumns.push(isBoolean ? { name: column, kind: 'bool', values: values as Uint8Array, nulls } : { name: column, kind: 'number', values: values as Float64Array, nulls });
  }
  return { rowCount, columns: blockColumns };
}

/** The same rows in compact form (arrays in TELEMETRY_POINT_COLUMNS order, `ts` as epoch ms): what the benches' raw inserts send. */
export function pointRows(context: PointContext, columns: TelemetryBatchColumns): CompactRows & { rows: unknown[][] } {
  return { columns: TELEMETRY_POINT_COLUMNS, rows: blockRows(pointBlock(context, columns)) };
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
  identity: {
    [TELEMETRY_POINTS_TABLE]: { group: 'session_id', order: 'ts', orderKind: 'epochMs' },
    [LAPS_TABLE]: { group: 'session_id', order: 'lap_number', orderKind: 'integer' },
  },
  on: {
    TelemetryBatchRecorded(event) {
      // The registry checked the envelope; the points are checked here against the upload's rule.
      const data = readTelemetryBatchRecorded(event.data, { checkPoints: true });
      return [{ table: TELEMETRY_POINTS_TABLE, block: pointBlock(data, data.columns) }];
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
