import { CHANNEL_NAMES, batchLength, sampleAt, type TelemetryBatchColumns, type TelemetrySample } from './telemetry-batch';
import { fastSample } from './telemetry-point';

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

/** The index of the first point of a stored batch that the upload would not accept, or null. */
export function firstUnacceptablePoint(columns: TelemetryBatchColumns): number | null {
  let previousMs = -Infinity;
  for (let index = 0; index < batchLength(columns); index += 1) {
    const sample = sampleAt(columns, index);
    if (fastSample(sampleAsUploadedPoint(sample)) === null || sample.timestampMs <= previousMs) return index;
    previousMs = sample.timestampMs;
  }
  return null;
}
