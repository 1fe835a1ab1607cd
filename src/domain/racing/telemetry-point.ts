import { z } from 'zod';
import { UnprocessableError, ValidationError } from '../shared/errors';
import { sampleAt, type TelemetryBatchColumns, type TelemetrySample } from './telemetry-batch';
import { canonicalPoint, hasOnlyCanonicalFields } from './telemetry-point-fields';

/**
 * One uploaded telemetry point, as clients send it (snake_case JSON). The seven documented channels
 * are required; the lap channels are optional and named after the Assetto Corsa shared-memory field
 * each one copies (see docs/telemetry.md for the full table). Aliases of field names are renamed
 * first, and an unknown field is refused, naming it (telemetry-point-fields.ts).
 */

/** Epoch-ms bounds: catches clients sending seconds (1.7e9 ms is January 1970) or garbage. */
export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
export const MAX_TIMESTAMP_MS = Date.UTC(2100, 0, 1);
export const DEFAULT_MAX_POINTS_PER_BATCH = 10_000;

const range = (min: number, max: number, unit: string) =>
  z.number({ error: 'must be a number' }).min(min, { error: `must be >= ${min} ${unit}` }).max(max, { error: `must be <= ${max} ${unit}` });
const integerRange = (min: number, max: number, unit: string) => range(min, max, unit).int({ error: 'must be an integer' });
const optional = <T extends z.ZodType>(schema: T) => schema.nullish();
const flag = z.boolean({ error: 'must be true or false' }).nullish();

const TIMESTAMP_HINT = 'must be an ISO-8601 date-time with a zone (e.g. 2024-01-15T14:30:05.250Z) or whole epoch milliseconds, between 2000 and 2100';

/** The pattern `z.iso.datetime({ offset: true })` checks (zod's own, from its core). */
const ISO_DATETIME_WITH_ZONE = z.core.regexes.datetime({ offset: true });

const TimestampSchema = z.union(
  [
    z.iso.datetime({ offset: true, error: TIMESTAMP_HINT }).refine((text) => inTimestampRange(Date.parse(text)), { error: TIMESTAMP_HINT }),
    // Whole milliseconds only: every store of a point (ClickHouse DateTime64(3), the read models)
    // keeps milliseconds, and a fraction accepted here would be a point no projection can apply.
    z.number().refine((epochMs) => isEpochMsTimestamp(epochMs), { error: TIMESTAMP_HINT }),
  ],
  { error: TIMESTAMP_HINT },
);

export const TelemetryPointSchema = z.object({
  timestamp: TimestampSchema.describe('ISO-8601 with zone, or epoch milliseconds; strictly increasing within a batch'),
  speed_kmh: range(0, 500, 'km/h').describe('AC physics speedKmh'),
  throttle_input: range(0, 1, '(0 = released, 1 = full)').describe('AC physics gas'),
  brake_input: range(0, 1, '(0 = released, 1 = full)').describe('AC physics brake'),
  steering_input: range(-1, 1, '(-1 = full left, +1 = full right)').describe('AC physics steerAngle'),
  gear: integerRange(-1, 10, '(-1 = reverse, 0 = neutral, 1..10 forward)').describe('AC physics gear minus 1'),
  rpm: range(0, 25_000, 'rpm').describe('AC physics rpms'),
  completed_laps: optional(integerRange(0, 100_000, 'laps')).describe('AC graphics completedLaps'),
  normalized_car_position: optional(range(0, 1, '(fraction of the lap)')).describe('AC graphics normalizedCarPosition'),
  current_lap_time_ms: optional(integerRange(0, 86_400_000, 'ms')).describe('AC graphics iCurrentTime'),
  current_sector_index: optional(integerRange(0, 31, '(0-based)')).describe('AC graphics currentSectorIndex'),
  is_in_pit: flag.describe('AC graphics isInPit (stopped in the pit box)'),
  is_in_pit_lane: flag.describe('AC graphics isInPitLane'),
  is_valid_lap: flag.describe('ACC graphics isValidLap (false once the sim invalidated the lap)'),
  world_x: optional(range(-1e6, 1e6, 'm')).describe('AC graphics carCoordinates[0]'),
  world_y: optional(range(-1e6, 1e6, 'm')).describe('AC graphics carCoordinates[1] (up)'),
  world_z: optional(range(-1e6, 1e6, 'm')).describe('AC graphics carCoordinates[2]'),
});

/** A point as the client sends it (the JSON shape). */
export type TelemetryPointJson = z.input<typeof TelemetryPointSchema>;

function inTimestampRange(epochMs: number): boolean {
  return Number.isFinite(epochMs) && epochMs >= MIN_TIMESTAMP_MS && epochMs <= MAX_TIMESTAMP_MS;
}

/** What a numeric timestamp must be (and what every stored timestampMs is): whole epoch ms in range. */
export function isEpochMsTimestamp(epochMs: number): boolean {
  return Number.isInteger(epochMs) && inTimestampRange(epochMs);
}

export function timestampToEpochMs(timestamp: string | number): number {
  return typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
}

type ParsedPoint = z.output<typeof TelemetryPointSchema>;

export function pointToSample(point: ParsedPoint): TelemetrySample {
  return {
    timestampMs: timestampToEpochMs(point.timestamp),
    speedKmh: point.speed_kmh,
    throttleInput: point.throttle_input,
    brakeInput: point.brake_input,
    steeringInput: point.steering_input,
    gear: point.gear,
    rpm: point.rpm,
    completedLaps: point.completed_laps ?? null,
    normalizedCarPosition: point.normalized_car_position ?? null,
    currentLapTimeMs: point.current_lap_time_ms ?? null,
    currentSectorIndex: point.current_sector_index ?? null,
    isInPit: point.is_in_pit ?? null,
    isInPitLane: point.is_in_pit_lane ?? null,
    isValidLap: point.is_valid_lap ?? null,
    worldX: point.world_x ?? null,
    worldY: point.world_y ?? null,
    worldZ: point.world_z ?? null,
  };
}

export type TelemetryBatchValidation =
  | { ok: true; batch: TelemetryBatchColumns }
  | { ok: false; error: ValidationError | UnprocessableError };

export interface TelemetryBatchLimits {
  maxPoints?: number;
}

/**
 * Validates a whole upload; the first bad point rejects the batch (nothing is stored).
 *
 * Status choice (docs/telemetry.md): a point that is malformed or out of range is a 400
 * ValidationError, like any other bad request field; points that are each fine but whose
 * timestamps do not strictly increase are a 422 UnprocessableError, because the batch is
 * well-formed but cannot be a recording of one car.
 */
export function validateTelemetryBatch(points: unknown, limits: TelemetryBatchLimits = {}): TelemetryBatchValidation {
  const maxPoints = limits.maxPoints ?? DEFAULT_MAX_POINTS_PER_BATCH;
  if (!Array.isArray(points)) return invalid('data_points', 'must be an array of points');
  if (points.length === 0) return invalid('data_points', 'must hold at least one point');
  if (points.length > maxPoints) {
    return invalid('data_points', `holds ${points.length} points; at most ${maxPoints} per batch`, { max_points: maxPoints });
  }
  // Each point goes straight into the batch's columns (no sample object per point).
  const columns = new BatchColumnsWriter();
  for (let index = 0; index < points.length; index += 1) {
    const point: unknown = points[index];
    // A point of canonical fields only that passes the fast checks is written as it is (the common case).
    if (!writeFastPoint(point, columns)) {
      const named = canonicalPoint(point);
      if (!named.ok) return invalid(`data_points.${index}.${named.field}`, named.message, { point_index: index, field: named.field });
      let sample = named.point === point ? null : fastSample(named.point);
      if (sample === null) {
        const parsed = TelemetryPointSchema.safeParse(named.point);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          const path = issue.path.map(String);
          // Errors name the field as the client sent it (an alias, not our canonical name).
          if (path.length > 0) path[0] = named.sentAs.get(path[0]!) ?? path[0]!;
          const field = path.length > 0 ? path.join('.') : null;
          const message = field === null ? 'must be an object' : issue.message;
          return invalid(field === null ? `data_points.${index}` : `data_points.${index}.${field}`, message, { point_index: index, field });
        }
        sample = pointToSample(parsed.data);
      }
      columns.writeSample(sample);
    }
    const timestampMs = columns.timestampMs[index]!;
    const previousMs = index > 0 ? columns.timestampMs[index - 1]! : null;
    if (previousMs !== null && timestampMs <= previousMs) {
      const message = `timestamp ${new Date(timestampMs).toISOString()} is not after the previous point's ${new Date(previousMs).toISOString()}; timestamps must strictly increase`;
      const key = `data_points.${index}.timestamp`;
      return {
        ok: false,
        error: new UnprocessableError(`Invalid telemetry batch: ${key}: ${message}`, {
          location: 'body',
          fields: { [key]: message },
          point_index: index,
          field: 'timestamp',
        }),
      };
    }
  }
  return { ok: true, batch: columns.batch() };
}

/**
 * The columns of a batch being validated, one array per channel of the batch's length, written
 * point by point. Optional channels no point carried are left out of the batch (as toColumns does).
 */
class BatchColumnsWriter {
  readonly timestampMs: number[];
  readonly speedKmh: number[];
  readonly throttleInput: number[];
  readonly brakeInput: number[];
  readonly steeringInput: number[];
  readonly gear: number[];
  readonly rpm: number[];
  readonly completedLaps: Array<number | null>;
  readonly normalizedCarPosition: Array<number | null>;
  readonly currentLapTimeMs: Array<number | null>;
  readonly currentSectorIndex: Array<number | null>;
  readonly worldX: Array<number | null>;
  readonly worldY: Array<number | null>;
  readonly worldZ: Array<number | null>;
  readonly isInPit: Array<boolean | null>;
  readonly isInPitLane: Array<boolean | null>;
  readonly isValidLap: Array<boolean | null>;
  /** Whether some point carried the optional channel (bit per channel, OPTIONAL order below). */
  carried = 0;

  // Filled by push, point after point: packed arrays (a preallocated `new Array(n)` stays holey, slower to read).
  constructor() {
    const numbers = (): number[] => [];
    this.timestampMs = numbers();
    this.speedKmh = numbers();
    this.throttleInput = numbers();
    this.brakeInput = numbers();
    this.steeringInput = numbers();
    this.gear = numbers();
    this.rpm = numbers();
    this.completedLaps = numbers();
    this.normalizedCarPosition = numbers();
    this.currentLapTimeMs = numbers();
    this.currentSectorIndex = numbers();
    this.worldX = numbers();
    this.worldY = numbers();
    this.worldZ = numbers();
    this.isInPit = [];
    this.isInPitLane = [];
    this.isValidLap = [];
  }

  writeSample(sample: TelemetrySample): void {
    this.timestampMs.push(sample.timestampMs);
    this.speedKmh.push(sample.speedKmh);
    this.throttleInput.push(sample.throttleInput);
    this.brakeInput.push(sample.brakeInput);
    this.steeringInput.push(sample.steeringInput);
    this.gear.push(sample.gear);
    this.rpm.push(sample.rpm);
    this.optional(sample.completedLaps, sample.normalizedCarPosition, sample.currentLapTimeMs, sample.currentSectorIndex);
    this.positions(sample.worldX, sample.worldY, sample.worldZ);
    this.flags(sample.isInPit, sample.isInPitLane, sample.isValidLap);
  }

  optional(completedLaps: number | null, normalizedCarPosition: number | null, currentLapTimeMs: number | null, currentSectorIndex: number | null): void {
    this.completedLaps.push(completedLaps);
    this.normalizedCarPosition.push(normalizedCarPosition);
    this.currentLapTimeMs.push(currentLapTimeMs);
    this.currentSectorIndex.push(currentSectorIndex);
    this.carried |= (completedLaps !== null ? 1 : 0) | (normalizedCarPosition !== null ? 2 : 0) | (currentLapTimeMs !== null ? 4 : 0) | (currentSectorIndex !== null ? 8 : 0);
  }

  positions(worldX: number | null, worldY: number | null, worldZ: number | null): void {
    this.worldX.push(worldX);
    this.worldY.push(worldY);
    this.worldZ.push(worldZ);
    this.carried |= (worldX !== null ? 16 : 0) | (worldY !== null ? 32 : 0) | (worldZ !== null ? 64 : 0);
  }

  flags(isInPit: boolean | null, isInPitLane: boolean | null, isValidLap: boolean | null): void {
    this.isInPit.push(isInPit);
    this.isInPitLane.push(isInPitLane);
    this.isValidLap.push(isValidLap);
    this.carried |= (isInPit !== null ? 128 : 0) | (isInPitLane !== null ? 256 : 0) | (isValidLap !== null ? 512 : 0);
  }

  batch(): TelemetryBatchColumns {
    const { carried } = this;
    return {
      timestampMs: this.timestampMs,
      speedKmh: this.speedKmh,
      throttleInput: this.throttleInput,
      brakeInput: this.brakeInput,
      steeringInput: this.steeringInput,
      gear: this.gear,
      rpm: this.rpm,
      ...(carried & 1 ? { completedLaps: this.completedLaps } : {}),
      ...(carried & 2 ? { normalizedCarPosition: this.normalizedCarPosition } : {}),
      ...(carried & 4 ? { currentLapTimeMs: this.currentLapTimeMs } : {}),
      ...(carried & 8 ? { currentSectorIndex: this.currentSectorIndex } : {}),
      ...(carried & 16 ? { worldX: this.worldX } : {}),
      ...(carried & 32 ? { worldY: this.worldY } : {}),
      ...(carried & 64 ? { worldZ: this.worldZ } : {}),
      ...(carried & 128 ? { isInPit: this.isInPit } : {}),
      ...(carried & 256 ? { isInPitLane: this.isInPitLane } : {}),
      ...(carried & 512 ? { isValidLap: this.isValidLap } : {}),
    };
  }
}

function invalid(key: string, message: string, extra: Record<string, unknown> = {}): TelemetryBatchValidation {
  return {
    ok: false,
    error: new ValidationError(`Invalid telemetry batch: ${key}: ${message}`, { location: 'body', fields: { [key]: message }, ...extra }),
  };
}

const inRange = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
const integerIn = (value: unknown, min: number, max: number): value is number => inRange(value, min, max) && Number.isInteger(value);
const absent = (value: unknown): value is null | undefined => value === undefined || value === null;
/** An optional number channel: null when absent, the number when `min <= it <= max` (an integer when asked), undefined when invalid. */
const optionalNumber = (value: unknown, min: number, max: number, integer: boolean): number | null | undefined =>
  absent(value) ? null : (integer ? integerIn(value, min, max) : inRange(value, min, max)) ? (value as number) : undefined;
const optionalFlag = (value: unknown): boolean | null | undefined => (absent(value) ? null : typeof value === 'boolean' ? value : undefined);

/**
 * The common case without zod's per-object machinery (it dominated the upload's CPU time): a point
 * that passes these checks is exactly one TelemetryPointSchema accepts, and becomes its sample
 * directly. Anything else returns null and goes through the schema, which names the problem.
 * test/unit/racing/telemetry-point-fast-path.test.ts checks the two agree on fuzzed points.
 * A batch's validation writes its points straight into columns (writeFastPoint); this one-point
 * form serves the alias path and the acceptance check's reference.
 */
export function fastSample(point: unknown): TelemetrySample | null {
  const one = new BatchColumnsWriter();
  return writeFastPoint(point, one) ? sampleAt(one.batch(), 0) : null;
}

/**
 * {@link fastSample}'s checks, writing the point into `columns` instead of building a
 * sample (appended as the next point): false, nothing written, when the point is not one the fast path accepts as it
 * is, which includes any point with a field that is not canonical (an alias, an unknown field: the
 * caller renames or refuses it, as before).
 */
function writeFastPoint(point: unknown, columns: BatchColumnsWriter): boolean {
  if (typeof point !== 'object' || point === null || Array.isArray(point)) return false;
  const p = point as Record<string, unknown>;
  const timestamp = p.timestamp;
  let timestampMs: number;
  if (typeof timestamp === 'number') {
    if (!isEpochMsTimestamp(timestamp)) return false;
    timestampMs = timestamp;
  } else if (typeof timestamp === 'string') {
    // The ISO rules (zone required, calendar-valid dates) stay zod's: its own pattern, without a parse per point.
    if (!ISO_DATETIME_WITH_ZONE.test(timestamp)) return false;
    timestampMs = Date.parse(timestamp);
    if (!inTimestampRange(timestampMs)) return false;
  } else {
    return false;
  }
  const { speed_kmh, throttle_input, brake_input, steering_input, gear, rpm } = p;
  if (!inRange(speed_kmh, 0, 500) || !inRange(throttle_input, 0, 1) || !inRange(brake_input, 0, 1)) return false;
  if (!inRange(steering_input, -1, 1) || !integerIn(gear, -1, 10) || !inRange(rpm, 0, 25_000)) return false;
  const completedLaps = optionalNumber(p.completed_laps, 0, 100_000, true);
  if (completedLaps === undefined) return false;
  const normalizedCarPosition = optionalNumber(p.normalized_car_position, 0, 1, false);
  if (normalizedCarPosition === undefined) return false;
  const currentLapTimeMs = optionalNumber(p.current_lap_time_ms, 0, 86_400_000, true);
  if (currentLapTimeMs === undefined) return false;
  const currentSectorIndex = optionalNumber(p.current_sector_index, 0, 31, true);
  if (currentSectorIndex === undefined) return false;
  const worldX = optionalNumber(p.world_x, -1e6, 1e6, false);
  if (worldX === undefined) return false;
  const worldY = optionalNumber(p.world_y, -1e6, 1e6, false);
  if (worldY === undefined) return false;
  const worldZ = optionalNumber(p.world_z, -1e6, 1e6, false);
  if (worldZ === undefined) return false;
  const isInPit = optionalFlag(p.is_in_pit);
  if (isInPit === undefined) return false;
  const isInPitLane = optionalFlag(p.is_in_pit_lane);
  if (isInPitLane === undefined) return false;
  const isValidLap = optionalFlag(p.is_valid_lap);
  if (isValidLap === undefined) return false;
  if (!hasOnlyCanonicalFields(p)) return false;
  columns.timestampMs.push(timestampMs);
  columns.speedKmh.push(speed_kmh);
  columns.throttleInput.push(throttle_input);
  columns.brakeInput.push(brake_input);
  columns.steeringInput.push(steering_input);
  columns.gear.push(gear);
  columns.rpm.push(rpm);
  columns.optional(completedLaps, normalizedCarPosition, currentLapTimeMs, currentSectorIndex);
  columns.positions(worldX, worldY, worldZ);
  columns.flags(isInPit, isInPitLane, isValidLap);
  return true;
}
