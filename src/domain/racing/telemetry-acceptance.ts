import { CHANNEL_NAMES, batchLength, sampleAt, type Channel, type TelemetryBatchColumns, type TelemetrySample } from './telemetry-batch';
import { fastSample, isEpochMsTimestamp } from './telemetry-point';

/**
 * One rule decides what an accepted telemetry point is: the upload's point schema
 * (TelemetryPointSchema, and its equivalent fast path `fastSample`). The command applies it to
 * what clients send; every consumer of a stored batch (the ClickHouse projection, the WebSocket
 * fan-out, replays) applies the very same rule to what it reads back, through this file. So a
 * point the API accepted is a point every projection can apply, and an event that breaks the rule
 * (written by an older version, or by hand) is recognised as such instead of failing deep inside
 * a database insert.
 */

/** A stored sample in the JSON shape clients upload (snake_case, epoch-ms timestamp). */
export function sampleAsUploadedPoint(sample: TelemetrySample): Record<string, unknown> {
  const point: Record<string, unknown> = {};
  for (const { name, field } of CHANNEL_NAMES) point[field] = sample[name];
  return point;
}

const inRange = (min: number, max: number) => (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
const integerIn = (min: number, max: number) => (value: unknown): boolean => inRange(min, max)(value) && Number.isInteger(value);
const orAbsent = (rule: (value: unknown) => boolean) => (value: unknown): boolean => value === undefined || value === null || rule(value);

/**
 * fastSample's rule per channel, for a value read from a stored column (a timestamp is stored as
 * epoch ms). test/unit/racing/telemetry-acceptance.test.ts checks on fuzzed batches that the
 * column-wise check finds the very point the point-wise one does.
 */
const CHANNEL_RULES: Record<Channel, (value: unknown) => boolean> = {
  timestampMs: (value) => typeof value === 'number' && isEpochMsTimestamp(value),
  speedKmh: inRange(0, 500),
  throttleInput: inRange(0, 1),
  brakeInput: inRange(0, 1),
  steeringInput: inRange(-1, 1),
  gear: integerIn(-1, 10),
  rpm: inRange(0, 25_000),
  completedLaps: orAbsent(integerIn(0, 100_000)),
  normalizedCarPosition: orAbsent(inRange(0, 1)),
  currentLapTimeMs: orAbsent(integerIn(0, 86_400_000)),
  currentSectorIndex: orAbsent(integerIn(0, 31)),
  worldX: orAbsent(inRange(-1e6, 1e6)),
  worldY: orAbsent(inRange(-1e6, 1e6)),
  worldZ: orAbsent(inRange(-1e6, 1e6)),
  isInPit: orAbsent((value) => typeof value === 'boolean'),
  isInPitLane: orAbsent((value) => typeof value === 'boolean'),
  isValidLap: orAbsent((value) => typeof value === 'boolean'),
};

/**
 * The index of the first point of a stored batch that the upload would not accept, or null.
 * Column by column (a consumer checks every point of every batch it reads: no object per point).
 */
export function firstUnacceptablePoint(columns: TelemetryBatchColumns): number | null {
  const length = batchLength(columns);
  let first = length;
  for (const { name } of CHANNEL_NAMES) {
    const column = columns[name] as readonly unknown[] | undefined;
    const rule = CHANNEL_RULES[name];
    if (column === undefined) {
      // An absent channel reads as null at every point.
      if (!rule(null)) first = Math.min(first, 0);
      continue;
    }
    for (let index = 0; index < first; index += 1) {
      if (!rule(column[index])) {
        first = index;
        break;
      }
    }
  }
  const timestamps = columns.timestampMs;
  for (let index = 1; index < first; index += 1) {
    if (!(timestamps[index]! > timestamps[index - 1]!)) {
      first = index;
      break;
    }
  }
  return first === length ? null : first;
}

/** The same answer point by point, through fastSample itself (the reference the column-wise check is tested against). */
export function firstUnacceptablePointBySample(columns: TelemetryBatchColumns): number | null {
  let previousMs = -Infinity;
  for (let index = 0; index < batchLength(columns); index += 1) {
    const sample = sampleAt(columns, index);
    if (fastSample(sampleAsUploadedPoint(sample)) === null || sample.timestampMs <= previousMs) return index;
    previousMs = sample.timestampMs;
  }
  return null;
}
