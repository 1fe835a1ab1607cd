import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { EventDataError } from '../shared/event-data-error';
import { LapCompletedDataSchema } from './lap-events';
import {
  OPTIONAL_BOOLEAN_CHANNELS,
  OPTIONAL_NUMBER_CHANNELS,
  REQUIRED_CHANNELS,
  sampleAt,
  TelemetryBatchColumnsSchema,
  type TelemetryBatchColumns,
} from './telemetry-batch';
import { firstUnacceptablePoint, sampleAsUploadedPoint } from './telemetry-acceptance';
import { lazilyUnpackedColumns, packColumnsReporting, unpackColumns } from './telemetry-batch-packing';

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
 * The registry's schema of a batch checks the envelope fields and only that `columns` is an
 * object: the points are checked on the hot path by readTelemetryBatchRecorded (shape, and with
 * `checkPoints` the upload's rule), and their encoding is the telemetry payload's own concern.
 */
const TelemetryBatchRecordedEventDataSchema = TelemetryBatchSummarySchema.extend({
  columns: z.custom<TelemetryBatchColumns>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'columns must be an object'),
});
type TelemetryBatchRecordedData = z.output<typeof TelemetryBatchRecordedEventDataSchema>;

/**
 * Stored formats of TelemetryBatchRecorded data (the version marker an upcaster can key on):
 * - 1 (no `batchFormat` field): `columns`, one JSON array per channel — events written before format 2;
 * - 2: `batchFormat: 2` and `packedColumns`, the columns packed into one base64 string
 *   (telemetry-batch-packing.ts). What the command handler writes now.
 * Both read back to the same domain event, columns as number arrays.
 */
export const TELEMETRY_BATCH_FORMAT = 2;

export type StoredTelemetryBatchRecorded =
  | (Omit<TelemetryBatchRecordedData, 'columns'> & { batchFormat: 2; packedColumns: string })
  | TelemetryBatchRecordedData;

/** Packed batches above this size are compared with their JSON when a column needed float64. */
const PACKED_SIZE_CHECK_CHARS = 64 * 1024;

/**
 * The domain event's data in its stored form: format 2 (packed). Parts are cut by the JSON size of
 * their columns (telemetry-batch-parts.ts), so an event must never store larger than that JSON: in
 * the rare case where full-precision tiny values make the packing larger, format 1 is stored.
 */
export function toStoredTelemetryBatch(data: TelemetryBatchRecordedData): StoredTelemetryBatchRecorded {
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

export const SessionCreated = defineEvent('SessionCreated', { data: SessionCreatedDataSchema });
export type SessionCreated = EventOf<typeof SessionCreated>;
export const TelemetryBatchRecorded = defineEvent('TelemetryBatchRecorded', {
  data: TelemetryBatchRecordedEventDataSchema,
  // Stored packed (format 2); both stored formats read back with columns as arrays.
  storage: { toStored: (data) => toStoredTelemetryBatch(data), fromStored: (stored) => unpackStoredTelemetryBatch(stored) },
});
export type TelemetryBatchRecorded = EventOf<typeof TelemetryBatchRecorded>;
/**
 * Version 2 (lap estimation): `estimated` is always written. Version 1 events may lack it: they are
 * laps measured from positions, so the upcaster says `estimated: false`.
 */
export const LapCompleted = defineEvent('LapCompleted', {
  version: 2,
  data: LapCompletedEventDataSchema.extend({ estimated: z.boolean() }),
  upcasters: { 1: (data) => ({ ...data, estimated: data.estimated ?? false }) },
});
export type LapCompleted = EventOf<typeof LapCompleted>;
export const SectorCompleted = defineEvent('SectorCompleted', { data: SectorCompletedDataSchema });
export type SectorCompleted = EventOf<typeof SectorCompleted>;
export const SessionCompleted = defineEvent('SessionCompleted', { data: SessionCompletedDataSchema });
export type SessionCompleted = EventOf<typeof SessionCompleted>;

export type TelemetrySessionEvent = SessionCreated | TelemetryBatchRecorded | LapCompleted | SectorCompleted | SessionCompleted;

/**
 * The stored data as the aggregate folds it and the registry decodes it: packed columns unpacked,
 * nothing else checked (an aggregate folds what its stream holds, as it always has; consumers
 * check with {@link readTelemetryBatchRecorded}). The packing is checked whole here (a malformed
 * one is an EventDataError now, as before), but its values are unpacked the first time a channel
 * is read (lazilyUnpackedColumns): decoding a batch for its summary (the sessions read model, the
 * own-write apply) costs no 2 000-point arrays.
 */
export function unpackStoredTelemetryBatch(data: Readonly<Record<string, unknown>>): TelemetryBatchRecordedData {
  if (data.batchFormat === undefined) return data as unknown as TelemetryBatchRecordedData;
  const { batchFormat: _format, packedColumns: _packed, ...rest } = data;
  return { ...rest, columns: storedColumns(data, lazilyUnpackedColumns) } as unknown as TelemetryBatchRecordedData;
}

/** The columns of either stored format (unchecked beyond the packing itself). */
function storedColumns(
  data: { batchFormat?: unknown; packedColumns?: unknown; columns?: unknown },
  unpack: (packed: string) => TelemetryBatchColumns = unpackColumns,
): unknown {
  if (data.batchFormat === undefined) return data.columns;
  if (data.batchFormat !== TELEMETRY_BATCH_FORMAT) throw new EventDataError('TelemetryBatchRecorded', `unknown batchFormat ${String(data.batchFormat)}`);
  if (typeof data.packedColumns !== 'string') throw new EventDataError('TelemetryBatchRecorded', 'packedColumns is not a string');
  try {
    return unpack(data.packedColumns);
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
