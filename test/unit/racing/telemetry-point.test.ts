import { UnprocessableError, ValidationError } from '../../../src/domain/shared/errors';
import {
  TelemetryBatchColumnsSchema,
  fromColumns,
  toColumns,
  type TelemetryBatchColumns,
} from '../../../src/domain/racing/telemetry-batch';
import { validateTelemetryBatch, type TelemetryPointJson } from '../../../src/domain/racing/telemetry-point';

const documented: TelemetryPointJson = {
  timestamp: '2024-01-15T14:30:05Z',
  speed_kmh: 245.5,
  throttle_input: 1.0,
  brake_input: 0.0,
  steering_input: 0.15,
  gear: 6,
  rpm: 7500,
};

const at = (ms: number): string => new Date(Date.UTC(2024, 0, 15, 14, 30, 5) + ms).toISOString();

function expectRejected(points: unknown, errorClass: typeof ValidationError | typeof UnprocessableError, message: unknown, details: Record<string, unknown>) {
  const result = validateTelemetryBatch(points, { maxPoints: 5 });
  if (result.ok) throw new Error('expected the batch to be rejected');
  expect(result.error).toBeInstanceOf(errorClass);
  expect(result.error.message).toEqual(message);
  expect(result.error.details).toMatchObject(details);
}

describe('validateTelemetryBatch', () => {
  it('accepts the documented example and stores it in columns', () => {
    const result = validateTelemetryBatch([documented]);
    expect(result).toEqual({
      ok: true,
      batch: {
        timestampMs: [Date.UTC(2024, 0, 15, 14, 30, 5)],
        speedKmh: [245.5],
        throttleInput: [1],
        brakeInput: [0],
        steeringInput: [0.15],
        gear: [6],
        rpm: [7500],
      },
    });
  });

  it('accepts epoch milliseconds, zone offsets and the lap channels, null-filling points without them', () => {
    const result = validateTelemetryBatch([
      { ...documented, timestamp: Date.UTC(2024, 0, 15, 14, 30, 5), normalized_car_position: 0.99, is_in_pit_lane: false, world_x: 1, world_y: 2, world_z: 3 },
      { ...documented, timestamp: '2024-01-15T15:30:05.020+01:00', completed_laps: 3, normalized_car_position: null },
    ]);
    if (!result.ok) throw result.error;
    expect(result.batch.timestampMs).toEqual([Date.UTC(2024, 0, 15, 14, 30, 5), Date.UTC(2024, 0, 15, 14, 30, 5, 20)]);
    expect(result.batch.normalizedCarPosition).toEqual([0.99, null]);
    expect(result.batch.completedLaps).toEqual([null, 3]);
    expect(result.batch.isInPitLane).toEqual([false, null]);
    expect(result.batch.worldY).toEqual([2, null]);
    expect(result.batch.isValidLap).toBeUndefined();
  });

  it('rejects a value out of range with 400, naming the point and the field', () => {
    expectRejected(
      [documented, { ...documented, timestamp: at(20), speed_kmh: 612 }],
      ValidationError,
      'Invalid telemetry batch: data_points.1.speed_kmh: must be <= 500 km/h',
      { point_index: 1, field: 'speed_kmh', fields: { 'data_points.1.speed_kmh': 'must be <= 500 km/h' } },
    );
    expectRejected([{ ...documented, normalized_car_position: 1.2 }], ValidationError, 'Invalid telemetry batch: data_points.0.normalized_car_position: must be <= 1 (fraction of the lap)', {
      point_index: 0,
      field: 'normalized_car_position',
    });
    expectRejected([{ ...documented, gear: 2.5 }], ValidationError, 'Invalid telemetry batch: data_points.0.gear: must be an integer', {
      field: 'gear',
    });
    expectRejected([{ ...documented, steering_input: -1.01 }], ValidationError, 'Invalid telemetry batch: data_points.0.steering_input: must be >= -1 (-1 = full left, +1 = full right)', {
      field: 'steering_input',
    });
  });

  it('rejects a missing documented channel and a wrong type', () => {
    const { rpm: _rpm, ...withoutRpm } = documented;
    expectRejected([documented, withoutRpm], ValidationError, 'Invalid telemetry batch: data_points.1.rpm: must be a number', { point_index: 1, field: 'rpm' });
    expectRejected([{ ...documented, is_in_pit: 'yes' }], ValidationError, 'Invalid telemetry batch: data_points.0.is_in_pit: must be true or false', { field: 'is_in_pit' });
    expectRejected([documented, 42], ValidationError, 'Invalid telemetry batch: data_points.1: must be an object', { point_index: 1, field: null });
  });

  it('rejects timestamps that are not ISO-8601 with a zone or plausible epoch milliseconds', () => {
    const hint = 'must be an ISO-8601 date-time with a zone (e.g. 2024-01-15T14:30:05.250Z) or whole epoch milliseconds, between 2000 and 2100';
    // 1705329005000.25: epoch ms with a fraction, which no store keeps (issue 8, defect 3).
    for (const timestamp of ['2024-01-15 14:30:05', '2024-01-15T14:30:05', 1_705_329_005, 1_705_329_005_000.25, 'yesterday', true, '1999-12-31T23:59:59Z']) {
      expectRejected([{ ...documented, timestamp }], ValidationError, `Invalid telemetry batch: data_points.0.timestamp: ${hint}`, { field: 'timestamp' });
    }
  });

  it('rejects non-increasing timestamps with 422, naming the point', () => {
    expectRejected(
      [documented, { ...documented, timestamp: at(20) }, { ...documented, timestamp: at(20) }],
      UnprocessableError,
      'Invalid telemetry batch: data_points.2.timestamp: timestamp 2024-01-15T14:30:05.020Z is not after the previous point\'s 2024-01-15T14:30:05.020Z; timestamps must strictly increase',
      { point_index: 2, field: 'timestamp' },
    );
  });

  it('reports the first bad point when several are bad', () => {
    expectRejected([documented, { ...documented, timestamp: at(-5) }, { ...documented, rpm: -1 }], UnprocessableError, expect.stringContaining('data_points.1.timestamp'), {
      point_index: 1,
    });
  });

  it('rejects an empty batch, a batch over the limit and a body that is not a list', () => {
    expectRejected([], ValidationError, 'Invalid telemetry batch: data_points: must hold at least one point', {});
    const six = Array.from({ length: 6 }, (_, i) => ({ ...documented, timestamp: at(i * 20) }));
    expectRejected(six, ValidationError, 'Invalid telemetry batch: data_points: holds 6 points; at most 5 per batch', { max_points: 5 });
    expectRejected({ points: [] }, ValidationError, 'Invalid telemetry batch: data_points: must be an array of points', {});
  });
});

describe('columnar batch', () => {
  const batch: TelemetryBatchColumns = {
    timestampMs: [1, 2],
    speedKmh: [10, 11],
    throttleInput: [1, 0.5],
    brakeInput: [0, 0],
    steeringInput: [0, -0.2],
    gear: [2, 2],
    rpm: [4000, 4100],
    normalizedCarPosition: [0.5, null],
    isValidLap: [true, false],
  };

  it('round-trips through rows', () => {
    expect(toColumns(fromColumns(batch))).toEqual(batch);
    expect(fromColumns(batch)[1]).toMatchObject({ normalizedCarPosition: null, isValidLap: false, worldX: null, completedLaps: null });
  });

  it('survives JSON as event data and validates with its schema', () => {
    expect(TelemetryBatchColumnsSchema.parse(JSON.parse(JSON.stringify(batch)))).toEqual(batch);
  });

  it('rejects columns of different lengths', () => {
    const result = TelemetryBatchColumnsSchema.safeParse({ ...batch, rpm: [4000] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['rpm'], message: 'has 1 values for 2 timestamps' });
  });
});
