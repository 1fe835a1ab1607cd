import { z } from 'zod';
import { boundedInteger } from '../shared/query-integer';

const success = <T extends z.ZodType>(data: T) => z.object({ status: z.literal('success'), data });
const filter = z.string().trim().min(1);
const seconds = z.number().nullable();

export const PERIODS = ['daily', 'weekly', 'monthly', 'all_time'] as const;

export const OverviewQuery = z.object({
  period: z.enum(PERIODS).default('all_time').describe('daily: last 24 h, weekly: last 7 days, monthly: last 30 days (by lap end time)'),
  track_name: filter.optional(),
  car_model: filter.optional(),
});

export const OverviewResponse = success(
  z.object({
    total_sessions: z.number().int().describe('Your sessions in the period (with or without laps)'),
    total_laps: z.number().int(),
    valid_laps: z.number().int(),
    best_lap_time: seconds,
    average_lap_time: seconds.describe('Mean of valid laps'),
    consistency_score: z.number().nullable(),
    improvement_trend: z.enum(['improving', 'declining', 'stable', 'insufficient_data']),
    tracks_driven: z.number().int().describe('Distinct tracks of your sessions in the period'),
    cars_used: z.number().int().describe('Distinct cars of your sessions in the period'),
    efficiency: z.number().nullable().describe('Full-throttle share of valid laps, percent'),
    period: z.enum(PERIODS),
  }),
);

export const ConsistencyQuery = z.object({
  session_id: z.uuid().optional(),
  track_name: filter.optional(),
  car_model: filter.optional(),
});

const SectorConsistency = z.object({
  score: z.number().nullable(),
  mean: seconds,
  std_deviation: seconds,
  laps_analyzed: z.number().int(),
});

export const ConsistencyResponse = success(
  z.object({
    track_name: z.string().nullable().describe('The track + car analysed: the filtered one, else the one with most valid laps'),
    car_model: z.string().nullable(),
    consistency_score: z.number().nullable(),
    total_laps_analyzed: z.number().int().describe('Valid laps kept after outlier removal'),
    outliers_removed: z.number().int(),
    coefficient_of_variation: z.number().nullable(),
    lap_time_statistics: z.object({ mean: seconds, std_deviation: seconds, best: seconds, worst: seconds, median: seconds }),
    sector_consistency: z.record(z.string(), SectorConsistency).describe('sector_1, sector_2, ...'),
  }),
);

export const CompareBody = z.object({
  primary_session_id: z.uuid(),
  secondary_session_id: z.uuid(),
  comparison_type: z
    .enum(['basic', 'detailed'])
    .default('detailed')
    .describe('basic: lap and sector statistics only; detailed: also the best laps\' telemetry (where time goes, braking points)'),
});

export const CompareResponse = success(
  z.object({
    overall_score: z.number().nullable().describe("Cliff's delta of valid lap times × 100: +100 every primary lap beats every secondary lap"),
    lap_time_delta: seconds.describe('Best valid lap, primary − secondary (negative: primary faster)'),
    mean_lap_time_delta: seconds,
    consistency_delta: z.number().nullable(),
    efficiency_delta: z.number().nullable(),
    significance: z.enum(['high', 'medium', 'low', 'none']),
    recommendations: z.array(z.string()),
    statistics: z.object({
      test: z.literal('welch_t'),
      t_statistic: z.number().nullable(),
      degrees_of_freedom: z.number().nullable(),
      p_value: z.number().nullable(),
      primary_laps: z.number().int(),
      secondary_laps: z.number().int(),
    }),
  }),
);

export const DeltaQuery = z.object({
  session_a: z.uuid(),
  lap_a: boundedInteger(1),
  session_b: z.uuid(),
  lap_b: boundedInteger(1),
  points: z.coerce.number().int().min(2).max(2000).default(100),
});

export const DeltaResponse = success(
  z.object({
    session_a: z.string(),
    lap_a: z.number().int(),
    session_b: z.string(),
    lap_b: z.number().int(),
    lap_time_a: z.number(),
    lap_time_b: z.number(),
    track_length_m: z.number().nullable(),
    samples: z.array(
      z.object({
        position: z.number().describe('Fraction of the lap, 0..1'),
        distance_m: z.number().nullable(),
        time_a: z.number().describe('Seconds since lap A crossed the line'),
        time_b: z.number(),
        delta: z.number().describe('time_b − time_a, seconds: positive where B is behind A'),
      }),
    ),
  }),
);

export const LEADERBOARD_CATEGORIES = ['overall', 'sector_1', 'sector_2', 'sector_3'] as const;

export const LeaderboardQuery = z.object({
  track_name: filter,
  car_model: filter,
  category: z.enum(LEADERBOARD_CATEGORIES).default('overall'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  include_estimated: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true')
    .describe('Extension: also rank laps estimated without position data (never verified; docs/telemetry.md)'),
});

export const LeaderboardResponse = success(
  z.object({
    track: z.string(),
    car: z.string(),
    category: z.enum(LEADERBOARD_CATEGORIES),
    entries: z.array(
      z.object({
        rank: z.number().int(),
        user_id: z.string(),
        username: z.string().nullable(),
        time: z.number().describe('Seconds'),
        consistency_score: z.number().nullable(),
        record_date: z.string(),
        is_verified: z.boolean(),
        estimated: z.boolean().describe('The lap was estimated from speed and pedals (no position data); only with include_estimated=true'),
        session_id: z.string(),
        lap_number: z.number().int(),
      }),
    ),
  }),
);
