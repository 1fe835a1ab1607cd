import { batchLength, sampleAt, type TelemetryBatchColumns, type TelemetrySample } from './telemetry-batch';
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
  return {
    timestamp: sample.timestampMs,
    speed_kmh: sample.speedKmh,
    throttle_input: sample.throttleInput,
    brake_input: sample.brakeInput,
    steering_input: sample.steeringInput,
    gear: sample.gear,
    rpm: sample.rpm,
    completed_laps: sample.completedLaps,
    normalized_car_position: sample.normalizedCarPosition,
    current_lap_time_ms: sample.currentLapTimeMs,
    current_sector_index: sample.currentSectorIndex,
    is_in_pit: sample.isInPit,
    is_in_pit_lane: sample.isInPitLane,
    is_valid_lap: sample.isValidLap,
    world_x: sample.worldX,
    world_y: sample.worldY,
    world_z: sample.worldZ,
  };
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
