import { batchLength, type TelemetryBatchColumns } from '../../../domain/racing/telemetry-batch';
import { LapCompletedEventDataSchema, readTelemetryBatchRecorded, SESSION_CATEGORY } from '../../../domain/racing/telemetry-session-events';
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

export interface TelemetryPointRow {
  session_id: string;
  user_id: string;
  track_name: string;
  car_model: string;
  /** Epoch milliseconds: ClickHouse reads an integer into DateTime64(3) as milliseconds. */
  ts: number;
  speed_kmh: number;
  throttle_input: number;
  brake_input: number;
  steering_input: number;
  gear: number;
  rpm: number;
  completed_laps: number | null;
  normalized_car_position: number | null;
  current_lap_time_ms: number | null;
  current_sector_index: number | null;
  is_in_pit: boolean | null;
  is_in_pit_lane: boolean | null;
  is_valid_lap: boolean | null;
  world_x: number | null;
  world_y: number | null;
  world_z: number | null;
}

/** One row per point, straight from the columns (no intermediate sample objects). */
export function pointRows(context: { sessionId: string; ownerId: string; trackName: string; carModel: string }, columns: TelemetryBatchColumns): TelemetryPointRow[] {
  const rows: TelemetryPointRow[] = new Array<TelemetryPointRow>(batchLength(columns));
  for (let i = 0; i < rows.length; i += 1) {
    rows[i] = {
      session_id: context.sessionId,
      user_id: context.ownerId,
      track_name: context.trackName,
      car_model: context.carModel,
      ts: columns.timestampMs[i]!,
      speed_kmh: columns.speedKmh[i]!,
      throttle_input: columns.throttleInput[i]!,
      brake_input: columns.brakeInput[i]!,
      steering_input: columns.steeringInput[i]!,
      gear: columns.gear[i]!,
      rpm: columns.rpm[i]!,
      completed_laps: columns.completedLaps?.[i] ?? null,
      normalized_car_position: columns.normalizedCarPosition?.[i] ?? null,
      current_lap_time_ms: columns.currentLapTimeMs?.[i] ?? null,
      current_sector_index: columns.currentSectorIndex?.[i] ?? null,
      is_in_pit: columns.isInPit?.[i] ?? null,
      is_in_pit_lane: columns.isInPitLane?.[i] ?? null,
      is_valid_lap: columns.isValidLap?.[i] ?? null,
      world_x: columns.worldX?.[i] ?? null,
      world_y: columns.worldY?.[i] ?? null,
      world_z: columns.worldZ?.[i] ?? null,
    };
  }
  return rows;
}

export const telemetryAnalyticsProjection = clickHouseProjection({
  name: 'telemetry_analytics',
  categories: [SESSION_CATEGORY],
  handles: ['TelemetryBatchRecorded', 'LapCompleted'],
  tables: { [TELEMETRY_POINTS_TABLE]: createTelemetryPoints, [LAPS_TABLE]: createLaps },
  rows(event) {
    if (event.type === 'TelemetryBatchRecorded') {
      const data = readTelemetryBatchRecorded(event.data, { checkPoints: true });
      return [{ table: TELEMETRY_POINTS_TABLE, rows: pointRows(data, data.columns) }];
    }
    const lap = LapCompletedEventDataSchema.parse(event.data);
    return [
      {
        table: LAPS_TABLE,
        rows: [
          {
            session_id: lap.sessionId,
            user_id: lap.ownerId,
            track_name: lap.trackName,
            car_model: lap.carModel,
            lap_number: lap.lapNumber,
            lap_time_ms: lap.lapTimeMs,
            sector_times_ms: lap.sectorTimesMs,
            valid: lap.valid,
            invalid_reasons: lap.invalidReasons,
            is_verified: lap.isVerified,
            started_at: lap.startedAtMs,
            ended_at: lap.endedAtMs,
            sample_count: lap.sampleCount,
            max_speed_kmh: lap.maxSpeedKmh,
            mean_speed_kmh: lap.meanSpeedKmh,
            distance_m: lap.distanceM,
            full_throttle_fraction: lap.fullThrottleFraction,
            braking_fraction: lap.brakingFraction,
            coasting_fraction: lap.coastingFraction,
            estimated: lap.estimated,
          },
        ],
      },
    ];
  },
});
