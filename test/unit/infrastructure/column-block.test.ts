import { arrowColumns, arrowSelectList } from '../../../src/infrastructure/analytics/chdb-arrow-input';
import { blockRows, concatBlocks, selectRows, sliceBlock, type ColumnBlock } from '../../../src/infrastructure/analytics/column-block';
import { pointBlock, pointRows } from '../../../src/projections/clickhouse/racing/telemetry-analytics-projection';
import { validateTelemetryBatch } from '../../../src/domain/racing/telemetry-point';
import { generateSession } from '../../fixtures/telemetry/trace-generator';

const block = (session: string, ts: number[], speeds: Array<number | null>, pit: Array<boolean | null>): ColumnBlock => ({
  rowCount: ts.length,
  columns: [
    { name: 'session_id', kind: 'text', runs: [{ value: session, count: ts.length }] },
    { name: 'ts', kind: 'epochMs', values: Float64Array.from(ts) },
    { name: 'speed', kind: 'number', values: Float64Array.from(speeds, (v) => v ?? 0), nulls: speeds.some((v) => v === null) ? Uint8Array.from(speeds, (v) => (v === null ? 1 : 0)) : null },
    { name: 'pit', kind: 'bool', values: Uint8Array.from(pit, (v) => (v === true ? 1 : 0)), nulls: Uint8Array.from(pit, (v) => (v === null ? 1 : 0)) },
  ],
});

describe('column blocks', () => {
  const a = block('a', [1, 2, 3], [10, null, 30], [true, null, false]);
  const b = block('b', [4, 5], [40, 50], [false, true]);

  it('concatenates, slices and selects rows, as the rows themselves would', () => {
    const both = concatBlocks([a, b]);
    expect(blockRows(both)).toEqual([...blockRows(a), ...blockRows(b)]);
    expect(blockRows(sliceBlock(both, 2, 4))).toEqual(blockRows(both).slice(2, 4));
    expect(blockRows(selectRows(both, Uint8Array.from([1, 0, 0, 1, 1])))).toEqual([blockRows(both)[0], blockRows(both)[3], blockRows(both)[4]]);
    expect(blockRows(a)).toEqual([
      ['a', 1, 10, true],
      ['a', 2, null, null],
      ['a', 3, 30, false],
    ]);
  });

  it('refuses to concatenate blocks of different columns', () => {
    expect(() => concatBlocks([a, { rowCount: 1, columns: [{ name: 'other', kind: 'epochMs', values: Float64Array.from([1]) }] }])).toThrow(/same columns/);
  });

  it('encodes Arrow columns: validity bitmaps, packed booleans, string offsets, and the epoch-ms conversion', () => {
    const both = concatBlocks([a, b]);
    const [session, ts, speed, pit] = arrowColumns(both);
    expect(session).toMatchObject({ format: 'u', length: 5, nullCount: 0 });
    expect([...new Int32Array(session!.buffers[1]!.buffer, session!.buffers[1]!.byteOffset, 6)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(session!.buffers[2]!.toString()).toBe('aaabb');
    expect(ts).toMatchObject({ format: 'g', nullCount: 0, buffers: [null, expect.any(Buffer)] });
    expect(speed!.nullCount).toBe(1);
    expect([...speed!.buffers[0]!]).toEqual([0b11101]);
    expect(pit!.nullCount).toBe(1);
    expect([...pit!.buffers[0]!]).toEqual([0b11101]);
    expect([...pit!.buffers[1]!]).toEqual([0b10001]);
    expect(arrowSelectList(both)).toBe("session_id, fromUnixTimestamp64Milli(toInt64(ts), 'UTC'), speed, pit");
  });

  it('gives the telemetry points the rows the compact JSON form had, every channel in place', () => {
    const points = generateSession({ seed: 5, laps: 1, hz: 10, start: 'rolling' }).points.slice(0, 300);
    const validated = validateTelemetryBatch(points);
    if (!validated.ok) throw validated.error;
    const context = { sessionId: '6f1c6a8e-4d2b-4c44-9c1e-000000000001', ownerId: '6f1c6a8e-4d2b-4c44-9c1e-000000000002', trackName: 'Ring', carModel: 'GT3' };
    const rows = pointRows(context, validated.batch).rows;
    expect(rows).toHaveLength(300);
    const columns = validated.batch;
    expect(rows[7]).toEqual([
      context.sessionId, context.ownerId, 'Ring', 'GT3',
      columns.timestampMs[7], columns.speedKmh[7], columns.throttleInput[7], columns.brakeInput[7], columns.steeringInput[7], columns.gear[7], columns.rpm[7],
      columns.completedLaps?.[7] ?? null, columns.normalizedCarPosition?.[7] ?? null, columns.currentLapTimeMs?.[7] ?? null, columns.currentSectorIndex?.[7] ?? null,
      columns.isInPit?.[7] ?? null, columns.isInPitLane?.[7] ?? null, columns.isValidLap?.[7] ?? null,
      columns.worldX?.[7] ?? null, columns.worldY?.[7] ?? null, columns.worldZ?.[7] ?? null,
    ]);
    // A channel the batch lacks is null at every point.
    const { worldX: _dropped, ...withoutWorldX } = columns;
    const lacking = pointBlock(context, withoutWorldX);
    expect(blockRows(lacking).every((row) => row[18] === null)).toBe(true);
  });
});
