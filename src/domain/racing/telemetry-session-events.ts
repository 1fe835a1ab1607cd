import { z } from 'zod';
import type { DomainEvent } from '../shared/decider';
import { EventDataError } from '../shared/event-data-error';
import { LapCompletedDataSchema, type LapCompleted as LapCompletedData } from './lap-events';
import {
  OPTIONAL_BOOLEAN_CHANNELS,
  OPTIONAL_NUMBER_CHANNELS,
  REQUIRED_CHANNELS,
  sampleAt,
  TelemetryBatchColumnsSchema,
  type TelemetryBatchColumns,
} from './telemetry-batch';
import { firstUnacceptablePoint, sampleAsUploadedPoint } from './telemetry-acceptance';
import { packColumnsReporting, unpackColumns } from './telemetry-batch-packing';

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

/** The envelope fields without the points: what consumers that only count read (both stored formats). */
export const TelemetryBatchSummarySchema = TelemetryBatchRecordedDataSchema.omit({ columns: true });

/**
 * Stored formats of TelemetryBatchRecorded data (the version marker an upcaster can key on):
 * - 1 (no `batchFormat` field): `columns`, one JSON array per channel — events written before format 2;
 * - 2: `batchFormat: 2` and `packedColumns`, the columns packed into one base64 string
 *   (telemetry-batch-packing.ts). What the command handler writes now.
 * Both read back to the same domain event, columns as number arrays.
 */
export const TELEMETRY_BATCH_FORMAT = 2;

export type StoredTelemetryBatchRecorded =
  | (Omit<TelemetryBatchRecorded['data'], 'columns'> & { batchFormat: 2; packedColumns: string })
  | TelemetryBatchRecorded['data'];

/** Packed batches above this size are compared with their JSON when a column needed float64. */
const PACKED_SIZE_CHECK_CHARS = 64 * 1024;

/**
 * The domain event's data in its stored form: format 2 (packed). Parts are cut by the JSON size of
 * their columns (telemetry-batch-parts.ts), so an event must never store larger than that JSON: in
 * the rare case where full-precision tiny values make the packing larger, format 1 is stored.
 */
export function toStoredTelemetryBatch(data: TelemetryBatchRecorded['data']): StoredTelemetryBatchRecorded {
  const { columns, ...summary } = data;
  const { packed, usedFloat64 } = packColumnsReporting(columns);
  if (usedFloat64 && packed.length > PACKED_SIZE_CHECK_CHARS && JSON.stringify(columns).length < packed.length) return data;
  return { ...summary, batchFormat: TELEMETRY_BATCH_FORMAT, packedColumns: packed };
}

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

/**
 * The stored data as the aggregate folds it: packed columns unpacked, nothing else checked (an
 * aggregate folds what its stream holds, as it always has; consumers check with
 * {@link readTelemetryBatchRecorded}).
 */
export function unpackStoredTelemetryBatch(data: Record<string, unknown>): TelemetryBatchRecorded['data'] {
  if (data.batchFormat === undefined) return data as unknown as TelemetryBatchRecorded['data'];
  const { batchFormat: _format, packedColumns: _packed, ...rest } = data;
  return { ...rest, columns: storedColumns(data) } as unknown as TelemetryBatchRecorded['data'];
}

/** The columns of either stored format (unchecked beyond the packing itself). */
function storedColumns(data: { batchFormat?: unknown; packedColumns?: unknown; columns?: unknown }): unknown {
  if (data.batchFormat === undefined) return data.columns;
  if (data.batchFormat !== TELEMETRY_BATCH_FORMAT) throw new EventDataError('TelemetryBatchRecorded', `unknown batchFormat ${String(data.batchFormat)}`);
  if (typeof data.packedColumns !== 'string') throw new EventDataError('TelemetryBatchRecorded', 'packedColumns is not a string');
  try {
    return unpackColumns(data.packedColumns);
  } catch (error) {
    throw new EventDataError('TelemetryBatchRecorded', `packedColumns: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const REQUIRED_COLUMNS = new Set<string>(REQUIRED_CHANNELS);
const COLUMN_NAMES = [...REQUIRED_CHANNELS, ...OPTIONAL_NUMBER_CHANNELS, ...OPTIONAL_BOOLEAN_CHANNELS];

/**
 * TelemetryBatchRecorded data read back from the store or the bus, for consumers on the hot path
 * (ClickHouse, WebSocket fan-out). The envelope fields are parsed with zod; the columns for shape
 * (every channel an array as long as the batch). With `checkPoints`, every point is also checked
 * against the upload's own rule (telemetry-acceptance.ts): projections that store points ask for
 * it, so an event no upload could produce today is an EventDataError, never a failed insert.
 */
export function readTelemetryBatchRecorded(data: unknown, options: { checkPoints?: boolean } = {}): TelemetryBatchRecorded['data'] {
  const parsed = TelemetryBatchSummarySchema.safeParse(data);
  if (!parsed.success) throw new EventDataError('TelemetryBatchRecorded', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const summary = parsed.data;
  const columns = storedColumns(data as { batchFormat?: unknown; packedColumns?: unknown; columns?: unknown });
  if (typeof columns !== 'object' || columns === null) throw new EventDataError('TelemetryBatchRecorded', 'no columns');
  for (const name of COLUMN_NAMES) {
    const column = (columns as Record<string, unknown>)[name];
    if (column === undefined && !REQUIRED_COLUMNS.has(name)) continue;
    if (!Array.isArray(column) || column.length !== summary.pointCount) {
      throw new EventDataError('TelemetryBatchRecorded', `column ${name} is not an array of ${summary.pointCount} values`);
    }
  }
  const batch = columns as TelemetryBatchColumns;
  if (options.checkPoints) {
    const bad = firstUnacceptablePoint(batch);
    if (bad !== null) {
      const point = JSON.stringify(sampleAsUploadedPoint(sampleAt(batch, bad)));
      throw new EventDataError('TelemetryBatchRecorded', `point ${bad} is not one the upload accepts: ${point.slice(0, 400)}`);
    }
  }
  return { ...summary, columns: batch };
}
