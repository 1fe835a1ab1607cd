import { z } from 'zod';
import { boundedInteger } from '../shared/query-integer';
import { DEFAULT_MAX_POINTS_PER_BATCH, TelemetryPointSchema } from '../../domain/racing/telemetry-point';

const trimmed = (max: number) => z.string().trim().min(1).max(max);

export const CreateSessionBody = z.object({
  session_name: trimmed(200),
  track_name: trimmed(100),
  car_model: trimmed(100),
  weather_conditions: z.string().trim().max(100).nullish(),
  track_temperature: z.number().min(-50).max(100).nullish().describe('°C'),
  air_temperature: z.number().min(-60).max(70).nullish().describe('°C'),
  track_length_m: z
    .number()
    .min(100)
    .max(100_000)
    .nullish()
    .describe('Extension: track length in metres. Lets lap detection run its physics checks and the analytics speak in metres.'),
});

export const SessionParams = z.object({ session_id: z.uuid() });

export const ListSessionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: boundedInteger(0).default(0),
  track_name: z.string().trim().min(1).optional(),
  car_model: z.string().trim().min(1).optional(),
});

export const SessionResponse = z.object({
  id: z.uuid(),
  session_name: z.string(),
  track_name: z.string(),
  car_model: z.string(),
  weather_conditions: z.string().nullable(),
  track_temperature: z.number().nullable(),
  air_temperature: z.number().nullable(),
  track_length_m: z.number().nullable(),
  total_laps: z.number().int(),
  valid_laps: z.number().int(),
  best_lap_time: z.number().nullable().describe('Best valid lap, seconds'),
  data_points: z.number().int(),
  session_start: z.string().describe('Time of the first telemetry point; the creation time until data arrives'),
  is_complete: z.boolean(),
  created_at: z.string(),
  completed_at: z.string().nullable(),
});

export const ListSessionsResponse = z.object({
  sessions: z.array(SessionResponse),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

const pointJsonSchema = (() => {
  const { $schema: _schema, ...schema } = z.toJSONSchema(TelemetryPointSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  void _schema;
  return schema;
})();

export const UploadTelemetryBody = z.object({
  // Validated point by point in the command (validateTelemetryBatch) so that the error names the
  // point index and field, and timestamps out of order answer 422; documented with the point schema.
  data_points: z.array(z.unknown()).meta({
    description: `1..${DEFAULT_MAX_POINTS_PER_BATCH} points, timestamps strictly increasing, after the session's last recorded point`,
    items: pointJsonSchema,
  }),
  batch_id: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .optional()
    .describe('Extension: client batch id; a retried upload with the same id records nothing and answers the original points_created. Same as the Idempotency-Key header.'),
});

export const UploadTelemetryResponse = z.object({
  message: z.string(),
  points_created: z.number().int(),
  batch_id: z.string(),
  laps_completed: z.number().int().describe('Laps this batch completed'),
  replayed: z.boolean().describe('True when this batch id was recorded before: nothing new was stored'),
});
