import { z } from 'zod';

/**
 * The columnar form of one telemetry upload: one array per channel, index i of every array is
 * point i. This is the data of the TelemetryBatchRecorded event: a 60 Hz minute is 3,600 points,
 * and arrays of numbers store far smaller than 3,600 objects repeating 16 key names.
 *
 * The seven documented channels are always present. Each lap channel is present as a whole
 * (with `null` where a point did not carry it) or absent when no point in the batch carried it,
 * so a client that only sends the documented channels pays nothing for the others.
 */

export const REQUIRED_CHANNELS = [
  'timestampMs',
  'speedKmh',
  'throttleInput',
  'brakeInput',
  'steeringInput',
  'gear',
  'rpm',
] as const;

export const OPTIONAL_NUMBER_CHANNELS = [
  'completedLaps',
  'normalizedCarPosition',
  'currentLapTimeMs',
  'currentSectorIndex',
  'worldX',
  'worldY',
  'worldZ',
] as const;

export const OPTIONAL_BOOLEAN_CHANNELS = ['isInPit', 'isInPitLane', 'isValidLap'] as const;

export type RequiredChannel = (typeof REQUIRED_CHANNELS)[number];
export type Channel = RequiredChannel | OptionalNumberChannel | OptionalBooleanChannel;

/**
 * The one table of channel names: the columnar batch's name, the upload's JSON field and the
 * ClickHouse column. Every mapping between columns and rows (a sample, an uploaded point, a
 * `telemetry_points` row) is derived from it, so a channel is named in exactly one place.
 */
export const CHANNEL_NAMES: ReadonlyArray<{ name: Channel; field: string; column: string }> = [
  { name: 'timestampMs', field: 'timestamp', column: 'ts' },
  { name: 'speedKmh', field: 'speed_kmh', column: 'speed_kmh' },
  { name: 'throttleInput', field: 'throttle_input', column: 'throttle_input' },
  { name: 'brakeInput', field: 'brake_input', column: 'brake_input' },
  { name: 'steeringInput', field: 'steering_input', column: 'steering_input' },
  { name: 'gear', field: 'gear', column: 'gear' },
  { name: 'rpm', field: 'rpm', column: 'rpm' },
  { name: 'completedLaps', field: 'completed_laps', column: 'completed_laps' },
  { name: 'normalizedCarPosition', field: 'normalized_car_position', column: 'normalized_car_position' },
  { name: 'currentLapTimeMs', field: 'current_lap_time_ms', column: 'current_lap_time_ms' },
  { name: 'currentSectorIndex', field: 'current_sector_index', column: 'current_sector_index' },
  { name: 'isInPit', field: 'is_in_pit', column: 'is_in_pit' },
  { name: 'isInPitLane', field: 'is_in_pit_lane', column: 'is_in_pit_lane' },
  { name: 'isValidLap', field: 'is_valid_lap', column: 'is_valid_lap' },
  { name: 'worldX', field: 'world_x', column: 'world_x' },
  { name: 'worldY', field: 'world_y', column: 'world_y' },
  { name: 'worldZ', field: 'world_z', column: 'world_z' },
];

/** Channel i of point `index` (null where an optional channel is absent from the batch). */
export function channelValue(batch: TelemetryBatchColumns, channel: Channel, index: number): number | boolean | null {
  return batch[channel]?.[index] ?? null;
}
export type OptionalNumberChannel = (typeof OPTIONAL_NUMBER_CHANNELS)[number];
export type OptionalBooleanChannel = (typeof OPTIONAL_BOOLEAN_CHANNELS)[number];

/** One point in row form, units in the names; `null` = the client did not send that channel. */
export type TelemetrySample = { [K in RequiredChannel]: number } & { [K in OptionalNumberChannel]: number | null } & {
  [K in OptionalBooleanChannel]: boolean | null;
};

const numbers = z.array(z.number());
const optionalNumbers = z.array(z.number().nullable()).optional();
const optionalBooleans = z.array(z.boolean().nullable()).optional();

const ColumnsShape = z.object({
  timestampMs: numbers,
  speedKmh: numbers,
  throttleInput: numbers,
  brakeInput: numbers,
  steeringInput: numbers,
  gear: numbers,
  rpm: numbers,
  completedLaps: optionalNumbers,
  normalizedCarPosition: optionalNumbers,
  currentLapTimeMs: optionalNumbers,
  currentSectorIndex: optionalNumbers,
  worldX: optionalNumbers,
  worldY: optionalNumbers,
  worldZ: optionalNumbers,
  isInPit: optionalBooleans,
  isInPitLane: optionalBooleans,
  isValidLap: optionalBooleans,
});

/** Schema of the columnar batch (the TelemetryBatchRecorded event data): every array as long as the timestamps. */
export const TelemetryBatchColumnsSchema = ColumnsShape.superRefine((batch, ctx) => {
  const length = batch.timestampMs.length;
  if (length === 0) ctx.addIssue({ code: 'custom', message: 'a batch holds at least one point', path: ['timestampMs'] });
  for (const channel of [...REQUIRED_CHANNELS, ...OPTIONAL_NUMBER_CHANNELS, ...OPTIONAL_BOOLEAN_CHANNELS]) {
    const column = batch[channel];
    if (column !== undefined && column.length !== length) {
      ctx.addIssue({ code: 'custom', message: `has ${column.length} values for ${length} timestamps`, path: [channel] });
    }
  }
});

export type TelemetryBatchColumns = z.infer<typeof ColumnsShape>;

export const batchLength = (batch: TelemetryBatchColumns): number => batch.timestampMs.length;

/** A batch of no points: the required channels, empty. */
export function emptyColumns(): TelemetryBatchColumns {
  return { timestampMs: [], speedKmh: [], throttleInput: [], brakeInput: [], steeringInput: [], gear: [], rpm: [] };
}

/** Rows to columns. Optional channels that no sample carries are left out of the batch. */
export function toColumns(samples: readonly TelemetrySample[]): TelemetryBatchColumns {
  const batch = emptyColumns();
  for (const channel of REQUIRED_CHANNELS) batch[channel] = samples.map((sample) => sample[channel]);
  for (const channel of OPTIONAL_NUMBER_CHANNELS) {
    if (samples.some((sample) => sample[channel] !== null)) batch[channel] = samples.map((sample) => sample[channel]);
  }
  for (const channel of OPTIONAL_BOOLEAN_CHANNELS) {
    if (samples.some((sample) => sample[channel] !== null)) batch[channel] = samples.map((sample) => sample[channel]);
  }
  return batch;
}

/**
 * Point i of a batch in row form (what the lap detector walks), keys in CHANNEL_NAMES order. One
 * object literal: every sample gets the same shape with its fields in the object, where filling an
 * empty object key by key grew each one a separate property store (the detector makes one per point).
 * Every channel is read optionally: the acceptance check also walks stored batches, which may lack one.
 */
export function sampleAt(batch: TelemetryBatchColumns, index: number): TelemetrySample {
  return {
    timestampMs: (batch.timestampMs?.[index] ?? null) as number,
    speedKmh: (batch.speedKmh?.[index] ?? null) as number,
    throttleInput: (batch.throttleInput?.[index] ?? null) as number,
    brakeInput: (batch.brakeInput?.[index] ?? null) as number,
    steeringInput: (batch.steeringInput?.[index] ?? null) as number,
    gear: (batch.gear?.[index] ?? null) as number,
    rpm: (batch.rpm?.[index] ?? null) as number,
    completedLaps: batch.completedLaps?.[index] ?? null,
    normalizedCarPosition: batch.normalizedCarPosition?.[index] ?? null,
    currentLapTimeMs: batch.currentLapTimeMs?.[index] ?? null,
    currentSectorIndex: batch.currentSectorIndex?.[index] ?? null,
    isInPit: batch.isInPit?.[index] ?? null,
    isInPitLane: batch.isInPitLane?.[index] ?? null,
    isValidLap: batch.isValidLap?.[index] ?? null,
    worldX: batch.worldX?.[index] ?? null,
    worldY: batch.worldY?.[index] ?? null,
    worldZ: batch.worldZ?.[index] ?? null,
  };
}

/** Columns to rows, in upload order. */
export function fromColumns(batch: TelemetryBatchColumns): TelemetrySample[] {
  const samples: TelemetrySample[] = [];
  for (let index = 0; index < batchLength(batch); index += 1) samples.push(sampleAt(batch, index));
  return samples;
}
