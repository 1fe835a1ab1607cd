import { firstUnacceptablePoint, firstUnacceptablePointBySample } from '../../../src/domain/racing/telemetry-acceptance';
import { CHANNEL_NAMES, type TelemetryBatchColumns } from '../../../src/domain/racing/telemetry-batch';
import { validateTelemetryBatch } from '../../../src/domain/racing/telemetry-point';
import { generateSession } from '../../fixtures/telemetry/trace-generator';

/**
 * Consumers check every stored point against the upload's rule column by column
 * (firstUnacceptablePoint); the rule itself is fastSample's, applied point by point in
 * firstUnacceptablePointBySample. The two must name the same first bad point on any batch.
 * Stored timestamps are epoch ms (what the upload stores); a string there is not checked here.
 */

// No strings: an ISO timestamp string is an upload's form, never a stored column's.
const ODD_VALUES: unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 0.5, 1.0000001, -1.0000001, 10, 10.5, 11, 31, 32, 500, 500.01, 25_000, 25_001, 100_000, 100_001,
  86_400_000, 86_400_001, 1e6, 1e6 + 1, -1e6 - 1, Infinity, -Infinity, NaN, [], {}, Date.UTC(2024, 0, 1), Date.UTC(1999, 11, 31), Date.UTC(2100, 0, 1) + 1, 1705329005.5,
];

function storedBatch(seed: number, points: number): TelemetryBatchColumns {
  const validated = validateTelemetryBatch(generateSession({ seed, laps: 1, hz: 10 }).points.slice(0, points));
  if (!validated.ok) throw validated.error;
  return validated.batch;
}

describe('telemetry acceptance, column by column', () => {
  it('accepts every point an upload stored', () => {
    const batch = storedBatch(3, 400);
    expect(firstUnacceptablePoint(batch)).toBeNull();
    expect(firstUnacceptablePointBySample(batch)).toBeNull();
  });

  it('finds the same first bad point as the point-wise rule (fuzzed)', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const base = storedBatch(4, 30);
    let rejected = 0;
    for (let round = 0; round < 2_000; round += 1) {
      const batch = JSON.parse(JSON.stringify(base)) as Record<string, unknown[] | undefined>;
      for (let changes = 1 + Math.floor(random() * 3); changes > 0; changes -= 1) {
        const { name } = CHANNEL_NAMES[Math.floor(random() * CHANNEL_NAMES.length)]!;
        const roll = random();
        // The timestamps give the batch its length: always present (readTelemetryBatchRecorded checks that first).
        if (roll < 0.05 && name !== 'timestampMs') {
          delete batch[name];
        } else if (roll < 0.15 && name !== 'timestampMs') {
          batch[name] = Array.from({ length: 30 }, () => null);
        } else {
          const column = batch[name] ?? (batch[name] = Array.from({ length: 30 }, () => null));
          const index = Math.floor(random() * 30);
          // Sometimes a timestamp out of order rather than an odd value.
          column[index] = name === 'timestampMs' && roll < 0.3 ? (column[Math.max(0, index - 1)] as number) - Math.floor(random() * 2) : ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
        }
      }
      const columns = batch as unknown as TelemetryBatchColumns;
      const expected = firstUnacceptablePointBySample(columns);
      expect(firstUnacceptablePoint(columns)).toBe(expected);
      if (expected !== null) rejected += 1;
    }
    // The fuzzing reaches both outcomes.
    expect(rejected).toBeGreaterThan(400);
    expect(rejected).toBeLessThan(2_000);
  });
});
