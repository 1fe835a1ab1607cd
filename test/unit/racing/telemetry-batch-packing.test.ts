import { toColumns, type TelemetryBatchColumns, type TelemetrySample } from '../../../src/domain/racing/telemetry-batch';
import { lazilyUnpackedColumns, packColumns, unpackColumns } from '../../../src/domain/racing/telemetry-batch-packing';
import { readTelemetryBatchRecorded, toStoredTelemetryBatch, unpackStoredTelemetryBatch } from '../../../src/domain/racing/telemetry-session-events';
import { EventDataError } from '../../../src/domain/shared/event-data-error';

/** Telemetry batches are stored packed (format 2) and unpack to exactly the numbers uploaded (issue 9). */

const T0 = 1705329005000;

function sample(i: number, overrides: Partial<TelemetrySample> = {}): TelemetrySample {
  return {
    timestampMs: T0 + i * 17,
    speedKmh: 100 + i / 10,
    throttleInput: 0.5,
    brakeInput: 0,
    steeringInput: -0.25,
    gear: 3,
    rpm: 7000,
    completedLaps: null,
    normalizedCarPosition: null,
    currentLapTimeMs: null,
    currentSectorIndex: null,
    isInPit: null,
    isInPitLane: null,
    isValidLap: null,
    worldX: null,
    worldY: null,
    worldZ: null,
    ...overrides,
  };
}

const roundTrip = (columns: TelemetryBatchColumns) => unpackColumns(packColumns(columns));

describe('packed telemetry columns', () => {
  it('give back exactly the numbers packed: short decimals, full doubles, extremes, nulls and booleans', () => {
    const samples = Array.from({ length: 333 }, (_, i) =>
      sample(i, {
        timestampMs: T0 + i * 16 + (i % 3), // uneven deltas
        speedKmh: (i * 1.37) % 500,
        throttleInput: Math.random(),
        brakeInput: i % 2 === 0 ? 0 : 1e-7,
        steeringInput: i % 5 === 0 ? -1 : 0.123456,
        gear: (i % 12) - 1,
        rpm: 25_000 - i * 0.001,
        completedLaps: i % 4 === 0 ? null : i,
        normalizedCarPosition: i % 7 === 0 ? null : (i / 333) ** 2,
        currentLapTimeMs: i % 9 === 0 ? null : 86_400_000 - i,
        isInPit: i % 3 === 0 ? null : i % 2 === 0,
        isValidLap: true,
        worldX: -1_000_000 + i * 0.5,
        worldY: Number.MIN_VALUE * i,
        worldZ: 1e300 / (i + 1),
      }),
    );
    const columns = toColumns(samples);
    expect(roundTrip(columns)).toEqual(columns);
    expect(Object.keys(roundTrip(columns)).sort()).toEqual(Object.keys(columns).sort());
  });

  it('keep float32 values (what sims export) exact in 4 bytes', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => sample(i, { speedKmh: Math.fround(100 + i / 7), rpm: Math.fround(7000 + i / 3), worldX: i % 2 ? null : Math.fround(i / 9) }));
    const columns = toColumns(samples);
    expect(roundTrip(columns)).toEqual(columns);
    expect(packColumns(columns).length * 2.5).toBeLessThan(JSON.stringify(columns).length);
  });

  it('keep absent optional channels absent and handle a single point', () => {
    const columns = toColumns([sample(0)]);
    expect(columns.worldX).toBeUndefined();
    const back = roundTrip(columns);
    expect(back).toEqual(columns);
    expect('worldX' in back).toBe(false);
  });

  it('are less than half the size of the JSON columns for what a logger sends', () => {
    const samples = Array.from({ length: 2000 }, (_, i) =>
      sample(i, { speedKmh: Math.round(Math.abs(Math.sin(i / 50)) * 2500) / 10, throttleInput: Math.round(Math.random() * 1000) / 1000, normalizedCarPosition: (i % 1000) / 1000, completedLaps: Math.floor(i / 1000) }),
    );
    const columns = toColumns(samples);
    expect(packColumns(columns).length * 2).toBeLessThan(JSON.stringify(columns).length);
  });

  it('refuse malformed input with an error, never wrong numbers', () => {
    const packed = packColumns(toColumns([sample(0), sample(1)]));
    const bytes = Buffer.from(packed, 'base64');
    expect(() => unpackColumns(bytes.subarray(0, bytes.length - 1).toString('base64'))).toThrow(/end early/);
    expect(() => unpackColumns(Buffer.concat([bytes, Buffer.from([0])]).toString('base64'))).toThrow(/trailing/);
    const otherFormat = Buffer.from(bytes);
    otherFormat[0] = 9;
    expect(() => unpackColumns(otherFormat.toString('base64'))).toThrow(/format 9/);
  });
});

describe('TelemetryBatchRecorded data, both stored formats', () => {
  const columns = toColumns(Array.from({ length: 50 }, (_, i) => sample(i)));
  const data = {
    sessionId: 's',
    ownerId: 'u',
    trackName: 'Monza',
    carModel: 'GT3',
    batchId: 'b',
    fingerprint: 'f',
    pointCount: 50,
    firstTimestampMs: T0,
    lastTimestampMs: T0 + 49 * 17,
    recordedAt: '2026-01-01T00:00:00.000Z',
    columns,
  };

  it('format 1 (JSON columns, events stored before format 2) and format 2 read to the same domain data', () => {
    const stored = JSON.parse(JSON.stringify(toStoredTelemetryBatch(data))) as Record<string, unknown>;
    expect(stored).toMatchObject({ batchFormat: 2, packedColumns: expect.any(String) });
    expect(stored.columns).toBeUndefined();
    const old = JSON.parse(JSON.stringify(data)) as unknown;
    expect(readTelemetryBatchRecorded(stored, { checkPoints: true })).toEqual(data);
    expect(readTelemetryBatchRecorded(old, { checkPoints: true })).toEqual(data);
  });

  it('an unknown format or broken packing is an EventDataError (quarantined, not retried)', () => {
    const stored = toStoredTelemetryBatch(data);
    expect(() => readTelemetryBatchRecorded({ ...stored, batchFormat: 3 })).toThrow(EventDataError);
    expect(() => readTelemetryBatchRecorded({ ...stored, packedColumns: 'AAAA' })).toThrow(EventDataError);
    expect(() => readTelemetryBatchRecorded({ ...stored, packedColumns: 42 })).toThrow(EventDataError);
  });
});

describe('stored size never exceeds the JSON the parts rule measured', () => {
  it('stores format 1 when full-precision tiny values would pack larger than their JSON', () => {
    const tiny = Array.from({ length: 6000 }, (_, i) =>
      sample(i, { speedKmh: 1e-7, throttleInput: 1e-7, brakeInput: 1e-7, steeringInput: 1e-7, rpm: 1e-7, worldX: 1e-7, worldY: 1e-7, worldZ: 1e-7 }),
    );
    const columns = toColumns(tiny);
    const data = { sessionId: 's', ownerId: 'u', trackName: 'M', carModel: 'C', batchId: 'b', fingerprint: 'f', pointCount: 6000, firstTimestampMs: T0, lastTimestampMs: T0 + 5999 * 17, recordedAt: 'x', columns };
    const stored = toStoredTelemetryBatch(data);
    expect(stored).not.toHaveProperty('batchFormat');
    expect(JSON.stringify(stored).length).toBeLessThanOrEqual(JSON.stringify(data).length);
    expect(readTelemetryBatchRecorded(JSON.parse(JSON.stringify(stored)))).toEqual(data);
  });
});

describe('columns unpacked on first read (decoding a batch for its summary)', () => {
  const mixed = (length = 97) =>
    toColumns(
      Array.from({ length }, (_, i) =>
        sample(i, {
          timestampMs: T0 + i * 16 + (i % 3),
          speedKmh: (i * 1.37) % 500,
          worldX: i % 5 === 0 ? null : i * 0.5,
          worldZ: 1e300 / (i + 1),
          completedLaps: i % 4 === 0 ? null : i,
          isInPit: i % 3 === 0 ? null : i % 2 === 0,
          rpm: Math.fround(7000 + i / 3),
        }),
      ),
    );
  /** The columns as JSON, or the error of the call itself (reading the columns afterwards must not throw). */
  const outcome = (unpack: () => TelemetryBatchColumns): { columns: string } | { error: string } => {
    let columns: TelemetryBatchColumns;
    try {
      columns = unpack();
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
    return { columns: JSON.stringify(columns) };
  };

  it('read exactly what unpackColumns gives, channel by channel, and leave absent channels absent', () => {
    const columns = mixed();
    const lazy = lazilyUnpackedColumns(packColumns(columns));
    expect(Object.keys(lazy).sort()).toEqual(Object.keys(columns).sort());
    expect('worldY' in lazy).toBe(false);
    expect(lazy.worldX).toEqual(columns.worldX);
    expect(lazy).toEqual(columns);
    expect({ ...lazy }).toEqual(columns);
  });

  it('do not unpack until a channel is read', () => {
    const lazy = lazilyUnpackedColumns(packColumns(mixed()));
    expect(Object.getOwnPropertyDescriptor(lazy, 'speedKmh')?.get).toBeInstanceOf(Function);
    void lazy.gear;
    expect(Object.getOwnPropertyDescriptor(lazy, 'speedKmh')?.value).toHaveLength(97);
  });

  it('give the same answer as unpackColumns for every truncated, extended or altered packing: error now, or the same columns', () => {
    const bytes = Buffer.from(packColumns(mixed(9)), 'base64');
    const variants: Buffer[] = [];
    for (let cut = 0; cut < bytes.length; cut += 1) variants.push(bytes.subarray(0, cut));
    variants.push(Buffer.concat([bytes, Buffer.from([0])]));
    for (let at = 0; at < bytes.length; at += 1) {
      for (const value of [0, 1, 2, 3, 4, 5, 9, 255]) {
        const altered = Buffer.from(bytes);
        altered[at] = value;
        variants.push(altered);
      }
    }
    for (const variant of variants) {
      const packed = variant.toString('base64');
      expect(outcome(() => lazilyUnpackedColumns(packed))).toEqual(outcome(() => unpackColumns(packed)));
    }
  });

  it('a stored batch decodes to the same data, and a broken packing is still an EventDataError at once', () => {
    const columns = mixed();
    const data = { sessionId: 's', ownerId: 'u', trackName: 'Monza', carModel: 'GT3', batchId: 'b', fingerprint: 'f', pointCount: 97, firstTimestampMs: columns.timestampMs[0]!, lastTimestampMs: columns.timestampMs[96]!, recordedAt: '2026-01-01T00:00:00.000Z', columns };
    const stored = JSON.parse(JSON.stringify(toStoredTelemetryBatch(data))) as Record<string, unknown>;
    expect(unpackStoredTelemetryBatch(stored)).toEqual(data);
    const broken = Buffer.from(String(stored.packedColumns), 'base64');
    expect(() => unpackStoredTelemetryBatch({ ...stored, packedColumns: broken.subarray(0, broken.length - 3).toString('base64') })).toThrow(EventDataError);
  });
});
