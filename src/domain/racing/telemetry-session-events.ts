import { z } from 'zod';
import type { DomainEvent } from '../shared/decider';
import { LapCompletedDataSchema, type LapCompleted as LapCompletedData } from './lap-events';
import {
  OPTIONAL_BOOLEAN_CHANNELS,
  OPTIONAL_NUMBER_CHANNELS,
  REQUIRED_CHANNELS,
  TelemetryBatchColumnsSchema,
  type TelemetryBatchColumns,
} from './telemetry-batch';

/**
 * Events of the TelemetrySession aggregate (stream `session-<id>`). Every event after
 * SessionCreated carries the session's owner, track and car: consumers (read models, ClickHouse,
 * WebSocket fan-out) then need no lookup and no state of their own to place a lap or a point.
 */

export const sessionStreamId = (sessionId: string): string => `session-${sessionId}`;
export const SESSION_CATEGORY = 'session';

/** Who and where, repeated on each event after the first. */
export const SessionContextSchema = z.object({
  sessionId: z.string(),
  ownerId: z.string(),
  trackName: z.string(),
  carModel: z.string(),
});
export type SessionContext = z.infer<typeof SessionContextSchema>;

export const SessionCreatedDataSchema = SessionContextSchema.extend({
  sessionName: z.string(),
  weatherConditions: z.string().nullable(),
  trackTemperatureC: z.number().nullable(),
  airTemperatureC: z.number().nullable(),
  /** Configures the lap detector's physics checks; null when the client did not say. */
  trackLengthM: z.number().nullable(),
  createdAt: z.string(),
});

export const TelemetryBatchRecordedDataSchema = SessionContextSchema.extend({
  /** The client's batch id (body `batch_id` or `Idempotency-Key`), or a server-made one. */
  batchId: z.string(),
  /** sha256 of the columns: the same batch id with other points is a conflict, not a retry. */
  fingerprint: z.string(),
  pointCount: z.number().int().positive(),
  firstTimestampMs: z.number(),
  lastTimestampMs: z.number(),
  recordedAt: z.string(),
  columns: TelemetryBatchColumnsSchema,
  /**
   * Only on the parts of an upload recorded as several events (telemetry-batch-parts.ts): the
   * index of this part's first point in the upload, and the upload's point count. `pointCount`,
   * the timestamps and `columns` are this part's.
   */
  firstPointIndex: z.number().int().nonnegative().optional(),
  batchPointCount: z.number().int().positive().optional(),
});

/** The envelope fields without the points: what consumers that only count read. */
export const TelemetryBatchSummarySchema = TelemetryBatchRecordedDataSchema.omit({ columns: true });

export const LapCompletedEventDataSchema = SessionContextSchema.extend(LapCompletedDataSchema.shape);

export const SectorCompletedDataSchema = SessionContextSchema.extend({
  lapNumber: z.number().int().positive(),
  sectorNumber: z.number().int().positive(),
  sectorTimeMs: z.number().int().nonnegative(),
  splitAtMs: z.number().int(),
});

export const SessionCompletedDataSchema = SessionContextSchema.extend({ completedAt: z.string() });

export type SessionCreated = DomainEvent<'SessionCreated', z.infer<typeof SessionCreatedDataSchema>>;
export type TelemetryBatchRecorded = DomainEvent<
  'TelemetryBatchRecorded',
  Omit<z.infer<typeof TelemetryBatchRecordedDataSchema>, 'columns'> & { columns: TelemetryBatchColumns }
>;
export type LapCompleted = DomainEvent<'LapCompleted', SessionContext & LapCompletedData>;
export type SectorCompleted = DomainEvent<'SectorCompleted', z.infer<typeof SectorCompletedDataSchema>>;
export type SessionCompleted = DomainEvent<'SessionCompleted', z.infer<typeof SessionCompletedDataSchema>>;

export type TelemetrySessionEvent = SessionCreated | TelemetryBatchRecorded | LapCompleted | SectorCompleted | SessionCompleted;

const REQUIRED_COLUMNS = new Set<string>(REQUIRED_CHANNELS);
const COLUMN_NAMES = [...REQUIRED_CHANNELS, ...OPTIONAL_NUMBER_CHANNELS, ...OPTIONAL_BOOLEAN_CHANNELS];

/**
 * TelemetryBatchRecorded data read back from the store or the bus, for consumers on the hot path
 * (ClickHouse, WebSocket fan-out). The envelope fields are parsed with zod; the columns only for
 * shape (every channel an array as long as the batch): their values were validated point by
 * point before the event was appended, and walking 10,000 × 17 values again for every consumer
 * would cost more than the rest of the pipeline while catching nothing.
 */
export function readTelemetryBatchRecorded(data: unknown): TelemetryBatchRecorded['data'] {
  const summary = TelemetryBatchSummarySchema.parse(data);
  const columns = (data as { columns?: unknown }).columns;
  if (typeof columns !== 'object' || columns === null) throw new Error('TelemetryBatchRecorded without columns');
  for (const name of COLUMN_NAMES) {
    const column = (columns as Record<string, unknown>)[name];
    if (column === undefined && !REQUIRED_COLUMNS.has(name)) continue;
    if (!Array.isArray(column) || column.length !== summary.pointCount) {
      throw new Error(`TelemetryBatchRecorded column ${name} is not an array of ${summary.pointCount} values`);
    }
  }
  return { ...summary, columns: columns as TelemetryBatchColumns };
}
