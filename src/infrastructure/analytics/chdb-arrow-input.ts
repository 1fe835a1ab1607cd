import type { BlockColumn, ColumnBlock } from './column-block';

/**
 * A column block handed to embedded chDB through the Arrow C data interface: the typed arrays are
 * given to the engine as they are (no text, no parse), registered under a name on one chDB
 * connection, read once by `INSERT … SELECT … FROM arrowstream('<name>')`, then unregistered.
 *
 * chdb 3.4 ships this as a low-level binding (`_arrowRegisterColumns(connection, name, columns)`,
 * `_arrowUnregister(connection, name)`; each column `{ name, format, length, nullCount, buffers }`
 * with the Arrow C format string and its buffers: validity bitmap, then values, or for strings
 * offsets then bytes). Its documented wrapper, `registerArrowTable`, only reaches the process-wide
 * default connection, which a data directory of our own cannot use; so the binding is used
 * directly, and `loadArrowBinding` returns null when an installed chdb lacks it (the adapter then
 * sends JSONCompactEachRow text instead).
 */

export interface ArrowColumn {
  name: string;
  /** Arrow C data interface format: `g` float64, `b` boolean, `u` UTF-8 string. */
  format: 'g' | 'b' | 'u';
  length: number;
  nullCount: number;
  buffers: Array<Buffer | null>;
}

export interface ArrowBinding {
  register(connection: unknown, name: string, columns: ArrowColumn[]): void;
  unregister(connection: unknown, name: string): void;
}

interface ChdbLowLevel {
  _arrowRegisterColumns?: (connection: unknown, name: string, columns: ArrowColumn[]) => void;
  _arrowUnregister?: (connection: unknown, name: string) => void;
}

/** The binding of the loaded chdb module, or null when it has none. */
export function loadArrowBinding(chdb: unknown): ArrowBinding | null {
  const lowLevel = chdb as ChdbLowLevel;
  const register = lowLevel._arrowRegisterColumns;
  const unregister = lowLevel._arrowUnregister;
  if (typeof register !== 'function' || typeof unregister !== 'function') return null;
  return { register: (connection, name, columns) => register(connection, name, columns), unregister: (connection, name) => unregister(connection, name) };
}

const bytesOf = (array: Float64Array | Uint8Array | Int32Array): Buffer => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

/** Arrow validity bitmap (bit i set = row i has a value) from per-row null flags; null when no row is null. */
function validity(nulls: Uint8Array | null, length: number): { bitmap: Buffer | null; nullCount: number } {
  if (nulls === null) return { bitmap: null, nullCount: 0 };
  const bitmap = Buffer.alloc((length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < length; i += 1) {
    if (nulls[i] === 1) nullCount += 1;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return nullCount === 0 ? { bitmap: null, nullCount: 0 } : { bitmap, nullCount };
}

function bits(values: Uint8Array): Buffer {
  const bitmap = Buffer.alloc((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i += 1) if (values[i] === 1) bitmap[i >> 3]! |= 1 << (i & 7);
  return bitmap;
}

function textColumn(column: Extract<BlockColumn, { kind: 'text' }>, length: number): ArrowColumn {
  const encoded = column.runs.map((run) => ({ bytes: Buffer.from(run.value, 'utf8'), count: run.count }));
  const total = encoded.reduce((sum, run) => sum + run.bytes.length * run.count, 0);
  if (total > 0x7fffffff) throw new Error(`column ${column.name}: more than 2 GiB of text in one block`);
  const data = Buffer.allocUnsafe(total);
  const offsets = new Int32Array(length + 1);
  let row = 0;
  let cursor = 0;
  for (const { bytes, count } of encoded) {
    if (bytes.length > 0) data.fill(bytes, cursor, cursor + bytes.length * count);
    for (let i = 0; i < count; i += 1) {
      offsets[row] = cursor;
      cursor += bytes.length;
      row += 1;
    }
  }
  offsets[length] = cursor;
  return { name: column.name, format: 'u', length, nullCount: 0, buffers: [null, bytesOf(offsets), data] };
}

/** The block's columns in the Arrow C data interface's terms (the typed arrays are shared, not copied). */
export function arrowColumns(block: ColumnBlock): ArrowColumn[] {
  const length = block.rowCount;
  return block.columns.map((column): ArrowColumn => {
    switch (column.kind) {
      case 'number': {
        const { bitmap, nullCount } = validity(column.nulls, length);
        return { name: column.name, format: 'g', length, nullCount, buffers: [bitmap, bytesOf(column.values)] };
      }
      case 'bool': {
        const { bitmap, nullCount } = validity(column.nulls, length);
        return { name: column.name, format: 'b', length, nullCount, buffers: [bitmap, bits(column.values)] };
      }
      case 'epochMs':
        return { name: column.name, format: 'g', length, nullCount: 0, buffers: [null, bytesOf(column.values)] };
      case 'text':
        return textColumn(column, length);
    }
  });
}

/**
 * What the INSERT selects for each column of the block, in order (the INSERT maps them by
 * position): the column itself, or for `epochMs` the float64 milliseconds turned into a
 * DateTime64(3) (a bare number would be read as seconds).
 * Column names are plain identifiers (checked by the adapter).
 */
export function arrowSelectList(block: ColumnBlock): string {
  return block.columns.map((column) => (column.kind === 'epochMs' ? `fromUnixTimestamp64Milli(toInt64(${column.name}), 'UTC')` : column.name)).join(', ');
}
