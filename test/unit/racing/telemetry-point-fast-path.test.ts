import { toColumns, type TelemetrySample } from '../../../src/domain/racing/telemetry-batch';
import { canonicalPoint } from '../../../src/domain/racing/telemetry-point-fields';
import { fastSample, pointToSample, TelemetryPointSchema, validateTelemetryBatch } from '../../../src/domain/racing/telemetry-point';
import { generateSession } from '../../fixtures/telemetry/trace-generator';

/**
 * validateTelemetryBatch checks the common point without zod (fastSample) and falls back to the
 * schema otherwise. The shortcut must accept only what the schema accepts, with the same sample.
 */

const FIELDS = [
  'timestamp', 'speed_kmh', 'throttle_input', 'brake_input', 'steering_input', 'gear', 'rpm', 'completed_laps', 'normalized_car_position',
  'current_lap_time_ms', 'current_sector_index', 'is_in_pit', 'is_in_pit_lane', 'is_valid_lap', 'world_x', 'world_y', 'world_z',
];
const ODD_VALUES: unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 0.5, 1.0000001, -1.0000001, 10, 10.5, 11, 31, 32, 500, 500.01, 25_000, 25_001, 100_000, 100_001,
  86_400_000, 86_400_001, 1e6, 1e6 + 1, -1e6 - 1, Infinity, NaN, '1', '', [], {}, Date.UTC(2024, 0, 1), Date.UTC(1999, 11, 31), 1705329005,
  '2024-01-15T14:30:05Z', '2024-01-15T14:30:05.250+02:00', '2024-01-15T14:30:05', '2024-02-30T00:00:00Z', '2024-01-15', '2101-01-01T00:00:00Z',
];

describe('telemetry point fast path', () => {
  it('agrees with the schema on generated points', () => {
    for (const point of generateSession({ seed: 5, laps: 1, hz: 10 }).points) {
      const parsed = TelemetryPointSchema.parse(point);
      expect(fastSample(point)).toEqual(pointToSample(parsed));
    }
  });

  it('never accepts what the schema rejects, and gives the same sample when it accepts (fuzzed)', () => {
    const base = generateSession({ seed: 6, laps: 1, hz: 1 }).points.slice(0, 20);
    let seed = 42;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let accepted = 0;
    for (let round = 0; round < 20_000; round += 1) {
      const point: Record<string, unknown> = { ...base[round % base.length]! };
      for (let changes = 1 + Math.floor(random() * 2); changes > 0; changes -= 1) {
        const field = FIELDS[Math.floor(random() * FIELDS.length)]!;
        const value = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
        if (value === undefined && random() < 0.5) delete point[field];
        else point[field] = value;
      }
      const fast = fastSample(point);
      const parsed = TelemetryPointSchema.safeParse(point);
      if (fast !== null) {
        accepted += 1;
        expect(parsed.success).toBe(true);
        expect(fast).toEqual(pointToSample(parsed.data!));
      }
    }
    expect(accepted).toBeGreaterThan(1000);
    for (const point of [null, [], 'x', 1, {}]) expect(fastSample(point)).toBeNull();
  });

  it('validates a batch straight into the columns the schema path gives (fuzzed batches: aliases, channels on some points only, bad points)', () => {
    const base = generateSession({ seed: 7, laps: 1, hz: 2 }).points.slice(0, 60);
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let valid = 0;
    for (let round = 0; round < 400; round += 1) {
      const points = base.slice(0, 1 + Math.floor(random() * base.length)).map((original) => {
        const point: Record<string, unknown> = { ...original };
        if (random() < 0.03) {
          const field = FIELDS[1 + Math.floor(random() * (FIELDS.length - 1))]!;
          const value = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
          if (value === undefined) delete point[field];
          else point[field] = value;
        }
        if (random() < 0.1) point.is_in_pit = random() < 0.5;
        if (random() < 0.03) point.worldY = 12.5; // an alias (camelCase)
        if (random() < 0.003) point.tyre_pressure = 27; // an unknown field
        return point;
      });
      const validated = validateTelemetryBatch(points);
      // The reference: each point renamed, checked by the schema, then rows to columns.
      const samples: TelemetrySample[] = [];
      let refused = false;
      for (const point of points) {
        const named = canonicalPoint(point);
        const parsed = named.ok ? TelemetryPointSchema.safeParse(named.point) : undefined;
        if (parsed === undefined || !parsed.success) {
          refused = true;
          break;
        }
        samples.push(pointToSample(parsed.data));
      }
      const increasing = samples.every((sample, i) => i === 0 || sample.timestampMs > samples[i - 1]!.timestampMs);
      expect(validated.ok).toBe(!refused && increasing);
      if (validated.ok) {
        valid += 1;
        expect(validated.batch).toEqual(toColumns(samples));
        expect(Object.keys(validated.batch).sort()).toEqual(Object.keys(toColumns(samples)).sort());
      }
    }
    expect(valid).toBeGreaterThan(40);
  });
});
