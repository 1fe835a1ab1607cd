import { CHANNEL_NAMES, OPTIONAL_BOOLEAN_CHANNELS, type Channel, type TelemetryBatchColumns } from './telemetry-batch';

/**
 * The packed form of a batch's columns, stored in TelemetryBatchRecorded (event data format 2,
 * `packedColumns`): one base64 string instead of one JSON number per point and channel. A JSON
 * reader (PostgreSQL jsonb, the relay, the bus, every consumer that only needs the summary) then
 * handles one string token instead of tens of thousands of numbers; only the consumers that need
 * the points (the aggregate, ClickHouse, the WebSocket fan-out) unpack them.
 *
 * Lossless: unpacking gives back exactly the numbers that were packed (the fingerprint, the lap
 * detector and replay see the same values as the live path). Per channel the smallest exact form:
 *
 *   byte 0            format (1)
 *   uint32 LE         point count n
 *   per channel, in CHANNEL_NAMES order, one tag byte:
 *     0  absent (optional channel no point carried)
 *     1  float64 × n
 *     2  scaled integers: uint8 decimal scale k, uint8 width w (1, 2 or 4), then n signed
 *        integers x of w bytes; value = x / 10^k (exact: checked when packing)
 *     3  deltas: float64 first value, uint8 width w, then n−1 signed integer differences
 *        (timestamps in whole ms: 2–4 bytes a point instead of 8)
 *     4  booleans: one byte a point, 0 false, 1 true, 2 null
 *     5  float32 × n, when every value is exactly a float32 (what sims such as Assetto Corsa
 *        produce: their shared memory holds float32, which a logger prints as a 17-digit double)
 *   numeric tags of optional channels are preceded by a null bitmap flag (uint8 0/1) and, when 1,
 *   ⌈n/8⌉ bytes with bit i set where point i is null (its value slot holds 0).
 */

export const PACKED_COLUMNS_FORMAT = 1;

const TAG = { absent: 0, float64: 1, scaled: 2, deltas: 3, booleans: 4, float32: 5 } as const;
const MAX_SCALE = 6;
const BOOLEAN = new Set<Channel>(OPTIONAL_BOOLEAN_CHANNELS);
const REQUIRED = new Set<Channel>(['timestampMs', 'speedKmh', 'throttleInput', 'brakeInput', 'steeringInput', 'gear', 'rpm']);

class Writer {
  private buffer = new Uint8Array(4096);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }
  u8(value: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
  }
  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }
  f32(value: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }
  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }
  int(value: number, width: number): void {
    this.reserve(width);
    if (width === 1) this.view.setInt8(this.length, value);
    else if (width === 2) this.view.setInt16(this.length, value, true);
    else this.view.setInt32(this.length, value, true);
    this.length += width;
  }
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

class Reader {
  private offset = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(count: number): void {
    if (this.offset + count > this.bytes.length) throw new Error(`packed columns end early (byte ${this.offset} + ${count} of ${this.bytes.length})`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }
  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }
  f32(): number {
    this.need(4);
    const value = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return value;
  }
  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }
  int(width: number): number {
    this.need(width);
    const value = width === 1 ? this.view.getInt8(this.offset) : width === 2 ? this.view.getInt16(this.offset, true) : this.view.getInt32(this.offset, true);
    this.offset += width;
    return value;
  }
  atEnd(): boolean {
    return this.offset === this.bytes.length;
  }
}

const widthFor = (min: number, max: number): number | null =>
  min >= -128 && max <= 127 ? 1 : min >= -32768 && max <= 32767 ? 2 : min >= -2147483648 && max <= 2147483647 ? 4 : null;

/** The smallest decimal scale k at which every value is an exact integer / 10^k that fits 32 bits. */
function scaledForm(values: ReadonlyArray<number | null>): { scale: number; width: number } | null {
  for (let scale = 0; scale <= MAX_SCALE; scale += 1) {
    const factor = 10 ** scale;
    let min = 0;
    let max = 0;
    let exact = true;
    for (const value of values) {
      if (value === null) continue;
      const scaled = Math.round(value * factor);
      if (scaled / factor !== value || !Number.isSafeInteger(scaled)) {
        exact = false;
        break;
      }
      if (scaled < min) min = scaled;
      if (scaled > max) max = scaled;
    }
    if (!exact) continue;
    const width = widthFor(min, max);
    return width === null ? null : { scale, width };
  }
  return null;
}

/** Differences between consecutive whole numbers, when all are whole and fit 32 bits. */
function deltaWidth(values: readonly number[]): number | null {
  let min = 0;
  let max = 0;
  for (let i = 0; i < values.length; i += 1) {
    if (!Number.isSafeInteger(values[i])) return null;
    if (i === 0) continue;
    const delta = values[i]! - values[i - 1]!;
    if (delta < min) min = delta;
    if (delta > max) max = delta;
  }
  return widthFor(min, max);
}

/** Packs one numeric column; true when it had to fall back to float64 (the only form that can outgrow JSON). */
function packNumbers(writer: Writer, values: ReadonlyArray<number | null>, nullable: boolean, allowDeltas: boolean): boolean {
  if (nullable) {
    const hasNulls = values.some((value) => value === null);
    writer.u8(hasNulls ? 1 : 0);
    if (hasNulls) {
      for (let byte = 0; byte < Math.ceil(values.length / 8); byte += 1) {
        let bits = 0;
        for (let bit = 0; bit < 8; bit += 1) if (values[byte * 8 + bit] === null) bits |= 1 << bit;
        writer.u8(bits);
      }
    }
  }
  const deltas = allowDeltas && !nullable && values.length > 1 ? deltaWidth(values as number[]) : null;
  const scaled = scaledForm(values);
  if (deltas !== null && (scaled === null || deltas < scaled.width)) {
    writer.u8(TAG.deltas);
    writer.f64(values[0]!);
    writer.u8(deltas);
    for (let i = 1; i < values.length; i += 1) writer.int(values[i]! - values[i - 1]!, deltas);
    return false;
  }
  if (scaled !== null) {
    const factor = 10 ** scaled.scale;
    writer.u8(TAG.scaled);
    writer.u8(scaled.scale);
    writer.u8(scaled.width);
    for (const value of values) writer.int(value === null ? 0 : Math.round(value * factor), scaled.width);
    return false;
  }
  if (values.every((value) => value === null || Math.fround(value) === value)) {
    writer.u8(TAG.float32);
    for (const value of values) writer.f32(value ?? 0);
    return false;
  }
  writer.u8(TAG.float64);
  for (const value of values) writer.f64(value ?? 0);
  return true;
}

/** Columns to the packed base64 text (the inverse of {@link unpackColumns}). */
export function packColumns(columns: TelemetryBatchColumns): string {
  return packColumnsReporting(columns).packed;
}

/**
 * Packs, and says whether any column needed float64. Only such a column can pack larger than its
 * JSON (a value like 1e-7 is 5 bytes of JSON, 10.7 of base64 float64); every other form is never
 * larger than the shortest JSON of the same values.
 */
export function packColumnsReporting(columns: TelemetryBatchColumns): PackedColumns {
  let packing = packings.get(columns);
  if (packing === undefined) {
    packing = packOnce(columns);
    packings.set(columns, packing);
  }
  return packing;
}

export interface PackedColumns {
  readonly packed: string;
  readonly usedFloat64: boolean;
}

/**
 * Each columns object's packing, made once: an upload's columns are packed for its fingerprint
 * (telemetry-batch-fingerprint.ts) and again, the same object, when its event is stored. Columns
 * are never changed once built (a part is a new object, telemetry-batch-parts.ts), so the packing
 * of an object stays its packing; the entry goes with the object.
 */
const packings = new WeakMap<TelemetryBatchColumns, PackedColumns>();

function packOnce(columns: TelemetryBatchColumns): PackedColumns {
  let usedFloat64 = false;
  const length = columns.timestampMs.length;
  const writer = new Writer();
  writer.u8(PACKED_COLUMNS_FORMAT);
  writer.u32(length);
  for (const { name } of CHANNEL_NAMES) {
    const column = columns[name];
    if (column === undefined) {
      writer.u8(TAG.absent);
      continue;
    }
    if (column.length !== length) throw new Error(`column ${name} has ${column.length} values for ${length} timestamps`);
    if (BOOLEAN.has(name)) {
      writer.u8(TAG.booleans);
      for (const value of column as ReadonlyArray<boolean | null>) writer.u8(value === null ? 2 : value ? 1 : 0);
      continue;
    }
    writer.u8(1); // present
    if (packNumbers(writer, column as ReadonlyArray<number | null>, !REQUIRED.has(name), name === 'timestampMs')) usedFloat64 = true;
  }
  return { packed: Buffer.from(writer.bytes()).toString('base64'), usedFloat64 };
}

function unpackNumbers(reader: Reader, length: number, nullable: boolean): Array<number | null> {
  let nulls: Uint8Array | null = null;
  if (nullable && reader.u8() === 1) {
    nulls = new Uint8Array(Math.ceil(length / 8));
    for (let byte = 0; byte < nulls.length; byte += 1) nulls[byte] = reader.u8();
  }
  const values = new Array<number | null>(length);
  const tag = reader.u8();
  if (tag === TAG.deltas) {
    if (length === 0) throw new Error('delta column of no points');
    let value = reader.f64();
    const width = reader.u8();
    values[0] = value;
    for (let i = 1; i < length; i += 1) {
      value += reader.int(width);
      values[i] = value;
    }
  } else if (tag === TAG.scaled) {
    const factor = 10 ** reader.u8();
    const width = reader.u8();
    for (let i = 0; i < length; i += 1) values[i] = reader.int(width) / factor;
  } else if (tag === TAG.float32) {
    for (let i = 0; i < length; i += 1) values[i] = reader.f32();
  } else if (tag === TAG.float64) {
    for (let i = 0; i < length; i += 1) values[i] = reader.f64();
  } else {
    throw new Error(`unknown numeric column tag ${tag}`);
  }
  if (nulls !== null) for (let i = 0; i < length; i += 1) if ((nulls[i >> 3]! >> (i & 7)) & 1) values[i] = null;
  return values;
}

/** The packed base64 text back to columns; throws (a plain Error) on anything malformed. */
export function unpackColumns(packed: string): TelemetryBatchColumns {
  return unpackBytes(Buffer.from(packed, 'base64'));
}

/**
 * The channels present in packed bytes, when their layout is one this module writes (widths 1, 2
 * or 4, null flags 0 or 1) and complete: every check {@link unpackColumns} makes, without
 * materialising a value, so unpacking such bytes cannot fail. Null for any other layout (malformed
 * or not: the caller unpacks at once, and gets today's answer, error or columns).
 */
function canonicalChannels(bytes: Uint8Array): Channel[] | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  if (end < 5 || bytes[0] !== PACKED_COLUMNS_FORMAT) return null;
  const length = view.getUint32(1, true);
  let at = 5;
  const present: Channel[] = [];
  for (const { name } of CHANNEL_NAMES) {
    if (at >= end) return null;
    const tag = bytes[at++]!;
    if (tag === TAG.absent) {
      if (REQUIRED.has(name)) return null;
      continue;
    }
    if (BOOLEAN.has(name)) {
      if (tag !== TAG.booleans || at + length > end) return null;
      for (let i = at; i < at + length; i += 1) if (bytes[i]! > 2) return null;
      at += length;
      present.push(name);
      continue;
    }
    if (tag !== 1) return null;
    if (!REQUIRED.has(name)) {
      if (at >= end) return null;
      const hasNulls = bytes[at++]!;
      if (hasNulls > 1) return null;
      if (hasNulls === 1) at += Math.ceil(length / 8);
    }
    if (at >= end) return null;
    const numeric = bytes[at++]!;
    if (numeric === TAG.deltas) {
      if (length === 0 || at + 9 > end) return null;
      const width = bytes[at + 8]!;
      if (width !== 1 && width !== 2 && width !== 4) return null;
      at += 9 + (length - 1) * width;
    } else if (numeric === TAG.scaled) {
      if (at + 2 > end) return null;
      const width = bytes[at + 1]!;
      if (width !== 1 && width !== 2 && width !== 4) return null;
      at += 2 + length * width;
    } else if (numeric === TAG.float32) at += length * 4;
    else if (numeric === TAG.float64) at += length * 8;
    else return null;
    if (at > end) return null;
    present.push(name);
  }
  return at === end ? present : null;
}

/**
 * The packed base64 text as columns unpacked on first read: when the bytes' layout is complete and
 * one this module writes, the columns object has the present channels as properties and unpacks
 * all of them the first time any is read (a consumer that reads only a batch's summary, such as
 * the sessions read model, then never pays for 2 000 points). Any other bytes are unpacked at once,
 * with {@link unpackColumns}'s errors: a malformed batch fails where it failed before.
 */
export function lazilyUnpackedColumns(packed: string): TelemetryBatchColumns {
  const bytes = Buffer.from(packed, 'base64');
  const present = canonicalChannels(bytes);
  if (present === null) return unpackBytes(bytes);
  const columns: Partial<Record<Channel, unknown>> = {};
  const materialise = (): void => {
    const unpacked = unpackBytes(bytes);
    // Plain data properties from now on: later reads are ordinary property loads.
    for (const name of present) Object.defineProperty(columns, name, { value: unpacked[name], enumerable: true, writable: true, configurable: true });
  };
  for (const name of present) {
    Object.defineProperty(columns, name, {
      enumerable: true,
      configurable: true,
      get: () => {
        materialise();
        return columns[name];
      },
    });
  }
  return columns as TelemetryBatchColumns;
}

function unpackBytes(bytes: Uint8Array): TelemetryBatchColumns {
  const reader = new Reader(bytes);
  const format = reader.u8();
  if (format !== PACKED_COLUMNS_FORMAT) throw new Error(`unknown packed columns format ${format}`);
  const length = reader.u32();
  const columns: Partial<Record<Channel, Array<number | boolean | null>>> = {};
  for (const { name } of CHANNEL_NAMES) {
    const tag = reader.u8();
    if (tag === TAG.absent) {
      if (REQUIRED.has(name)) throw new Error(`required column ${name} is absent`);
      continue;
    }
    if (BOOLEAN.has(name)) {
      if (tag !== TAG.booleans) throw new Error(`column ${name}: expected booleans, tag ${tag}`);
      const values = new Array<boolean | null>(length);
      for (let i = 0; i < length; i += 1) {
        const byte = reader.u8();
        if (byte > 2) throw new Error(`column ${name}: boolean byte ${byte}`);
        values[i] = byte === 2 ? null : byte === 1;
      }
      columns[name] = values;
      continue;
    }
    if (tag !== 1) throw new Error(`column ${name}: unknown tag ${tag}`);
    const values = unpackNumbers(reader, length, !REQUIRED.has(name));
    if (REQUIRED.has(name) && values.some((value) => value === null)) throw new Error(`required column ${name} holds nulls`);
    columns[name] = values;
  }
  if (!reader.atEnd()) throw new Error('packed columns have trailing bytes');
  return columns as TelemetryBatchColumns;
}
