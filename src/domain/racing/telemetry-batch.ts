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

/** Point i of a batch in row form (what projections insert and the lap detector walks). */
export function sampleAt(batch: TelemetryBatchColumns, index: number): TelemetrySample {
  const optionalNumber = (channel: OptionalNumberChannel): number | null => batch[channel]?.[index] ?? null;
  const optionalBoolean = (channel: OptionalBooleanChannel): boolean | null => batch[channel]?.[index] ?? null;
  return {
    timestampMs: batch.timestampMs[index]!,
    speedKmh: batch.speedKmh[index]!,
    throttleInput: batch.throttleInput[index]!,
    brakeInput: batch.brakeInput[index]!,
    steeringInput: batch.steeringInput[index]!,
    gear: batch.gear[index]!,
    rpm: batch.rpm[index]!,
    completedLaps: optionalNumber('completedLaps'),
    normalizedCarPosition: optionalNumber('normalizedCarPosition'),
    currentLapTimeMs: optionalNumber('currentLapTimeMs'),
    currentSectorIndex: optionalNumber('currentSectorIndex'),
    worldX: optionalNumber('worldX'),
    worldY: optionalNumber('worldY'),
    worldZ: optionalNumber('worldZ'),
    isInPit: optionalBoolean('isInPit'),
    isInPitLane: optionalBoolean('isInPitLane'),
    isValidLap: optionalBoolean('isValidLap'),
  };
}

/** Columns to rows, in upload order. */
export function fromColumns(batch: TelemetryBatchColumns): TelemetrySample[] {
  const samples: TelemetrySample[] = [];
  for (let index = 0; index < batchLength(batch); index += 1) samples.push(sampleAt(batch, index));
  return samples;
}
