import { ValidationError } from '../../../src/domain/shared/errors';
import { validateTelemetryBatch } from '../../../src/domain/racing/telemetry-point';
import { POINT_FIELD_ALIASES } from '../../../src/domain/racing/telemetry-point-fields';

/** Field names other tools use for the same channels (docs/telemetry.md, "Field names"). */

const documented = { timestamp: '2024-01-15T14:30:05Z', speed_kmh: 245.5, throttle_input: 1, brake_input: 0, steering_input: 0.15, gear: 6, rpm: 7500 };
const at = (ms: number) => new Date(Date.UTC(2024, 0, 15, 14, 30, 5) + ms).toISOString();

function accepted(points: unknown[]) {
  const result = validateTelemetryBatch(points);
  if (!result.ok) throw result.error;
  return result.batch;
}

function rejected(points: unknown[]) {
  const result = validateTelemetryBatch(points);
  if (result.ok) throw new Error('expected a rejection');
  return result.error;
}

describe('point field names', () => {
  it.each(['track_position', 'lap_distance_pct', 'lap_dist_pct', 'spline_position', 'normalized_spline_position', 'lapDistPct', 'normalizedCarPosition', 'LapDistPct'])(
    'takes %s as the normalized car position',
    (name) => {
      const batch = accepted([{ ...documented, [name]: 0.25 }, { ...documented, timestamp: at(50), [name]: 0.26 }]);
      expect(batch.normalizedCarPosition).toEqual([0.25, 0.26]);
    },
  );

  it.each(['laps_completed', 'lap_completed', 'lap_count', 'lap_number', 'current_lap', 'lap', 'completedLaps', 'currentLapNum'])('takes %s as the lap counter', (name) => {
    expect(accepted([{ ...documented, [name]: 4 }]).completedLaps).toEqual([4]);
  });

  it("takes the names of the document's own WebSocket message for the seven channels", () => {
    const batch = accepted([{ timestamp: documented.timestamp, speed: 245.5, throttle: 1, brake: 0, steering: 0.15, gear: 6, rpm: 7500 }]);
    expect(batch).toMatchObject({ speedKmh: [245.5], throttleInput: [1], brakeInput: [0], steeringInput: [0.15] });
  });

  it('maps every documented alias to a field the schema knows', () => {
    for (const [alias, canonical] of Object.entries(POINT_FIELD_ALIASES)) {
      const value = canonical.startsWith('is_') ? true : canonical === 'timestamp' ? documented.timestamp : 0;
      const point: Record<string, unknown> = { ...documented, [alias]: value };
      if (canonical in documented) delete point[canonical];
      expect(validateTelemetryBatch([point]).ok).toBe(true);
    }
  });

  it('refuses an unknown field with 400 naming it, instead of dropping it', () => {
    const error = rejected([documented, { ...documented, timestamp: at(50), tyre_temp_fl: 88 }]);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^Invalid telemetry batch: data_points\.1\.tyre_temp_fl: unknown field; a point has timestamp, speed_kmh/);
    expect(error.details).toMatchObject({ point_index: 1, field: 'tyre_temp_fl' });
  });

  it('names the alias the client sent when its value is bad', () => {
    const error = rejected([{ ...documented, lap_distance_pct: 57.3 }]);
    expect(error.message).toBe('Invalid telemetry batch: data_points.0.lap_distance_pct: must be <= 1 (fraction of the lap)');
    expect(error.details).toMatchObject({ field: 'lap_distance_pct' });
  });

  it('refuses two names of one channel with different values, accepts them agreeing', () => {
    const error = rejected([{ ...documented, track_position: 0.2, normalized_car_position: 0.3 }]);
    expect(error.message).toMatch(/is another name for normalized_car_position/);
    expect(accepted([{ ...documented, track_position: 0.2, normalized_car_position: 0.2 }]).normalizedCarPosition).toEqual([0.2]);
  });
});
