/**
 * Rows in columnar form, the compact input of `Analytics.insertColumns`: one typed array per
 * column instead of one JSON text per row. Embedded chDB reads such a block through the Arrow C
 * data interface without parsing a character (chdb-arrow-input.ts); a ClickHouse server gets it
 * as JSONCompactEachRow (`blockRows`).
 *
 * Column kinds:
 * - `number`: float64 values (the engine converts them to the column's type, as it converts a
 *   JSON number), `null` where `nulls[i]` is 1;
 * - `bool`: 0/1 per row, `null` where `nulls[i]` is 1;
 * - `epochMs`: whole epoch milliseconds, written to a `DateTime64(3)` column;
 * - `text`: strings given as runs (a value and how many consecutive rows carry it): the context
 *   columns of a telemetry batch (session, user, track, car) are one run each.
 */
export type BlockColumn =
  | { name: string; kind: 'number'; values: Float64Array; nulls: Uint8Array | null }
  | { name: string; kind: 'bool'; values: Uint8Array; nulls: Uint8Array | null }
  | { name: string; kind: 'epochMs'; values: Float64Array }
  | { name: string; kind: 'text'; runs: ReadonlyArray<TextRun> };

export interface TextRun {
  value: string;
  count: number;
}

export interface ColumnBlock {
  rowCount: number;
  columns: readonly BlockColumn[];
}

/** Checks that every column has `rowCount` values (a block that disagrees with itself is a bug, never data). */
export function assertBlockShape(block: ColumnBlock): void {
  for (const column of block.columns) {
    const length = columnLength(column);
    if (length !== block.rowCount) throw new Error(`column block: column ${column.name} has ${length} rows, the block ${block.rowCount}`);
    if ((column.kind === 'number' || column.kind === 'bool') && column.nulls !== null && column.nulls.length !== block.rowCount) {
      throw new Error(`column block: column ${column.name} has ${column.nulls.length} null flags for ${block.rowCount} rows`);
    }
  }
}

function columnLength(column: BlockColumn): number {
  return column.kind === 'text' ? column.runs.reduce((sum, run) => sum + run.count, 0) : column.values.length;
}

/** One block holding the rows of `blocks` in order; every block has the same columns in the same order. */
export function concatBlocks(blocks: readonly ColumnBlock[]): ColumnBlock {
  if (blocks.length === 1) return blocks[0]!;
  if (blocks.length === 0) throw new Error('column block: nothing to concatenate');
  const first = blocks[0]!;
  for (const block of blocks) {
    if (block.columns.length !== first.columns.length || block.columns.some((column, i) => column.name !== first.columns[i]!.name || column.kind !== first.columns[i]!.kind)) {
      throw new Error('column block: blocks to concatenate must have the same columns in the same order');
    }
  }
  const rowCount = blocks.reduce((sum, block) => sum + block.rowCount, 0);
  const columns = first.columns.map((column, index): BlockColumn => {
    const parts = blocks.map((block) => block.columns[index]!);
    switch (column.kind) {
      case 'number':
        return { name: column.name, kind: 'number', values: concatTyped(parts.map((part) => (part as typeof column).values), Float64Array, rowCount), nulls: concatNulls(parts as Array<typeof column>, rowCount) };
      case 'bool':
        return { name: column.name, kind: 'bool', values: concatTyped(parts.map((part) => (part as typeof column).values), Uint8Array, rowCount), nulls: concatNulls(parts as Array<typeof column>, rowCount) };
      case 'epochMs':
        return { name: column.name, kind: 'epochMs', values: concatTyped(parts.map((part) => (part as typeof column).values), Float64Array, rowCount) };
      case 'text':
        return { name: column.name, kind: 'text', runs: parts.flatMap((part) => (part as typeof column).runs) };
    }
  });
  return { rowCount, columns };
}

function concatTyped<T extends Float64Array | Uint8Array>(parts: readonly T[], Type: { new (length: number): T }, total: number): T {
  const out = new Type(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function concatNulls(parts: ReadonlyArray<{ values: { length: number }; nulls: Uint8Array | null }>, total: number): Uint8Array | null {
  if (parts.every((part) => part.nulls === null)) return null;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    if (part.nulls !== null) out.set(part.nulls, offset);
    offset += part.values.length;
  }
  return out;
}

/** Rows `start` (inclusive) to `end` (exclusive) of a block, sharing its memory where it can. */
export function sliceBlock(block: ColumnBlock, start: number, end: number): ColumnBlock {
  if (start === 0 && end >= block.rowCount) return block;
  const columns = block.columns.map((column): BlockColumn => {
    switch (column.kind) {
      case 'number':
      case 'bool':
        return { ...column, values: column.values.subarray(start, end), nulls: column.nulls?.subarray(start, end) ?? null } as BlockColumn;
      case 'epochMs':
        return { ...column, values: column.values.subarray(start, end) };
      case 'text':
        return { ...column, runs: sliceRuns(column.runs, start, end) };
    }
  });
  return { rowCount: end - start, columns };
}

function sliceRuns(runs: ReadonlyArray<TextRun>, start: number, end: number): TextRun[] {
  const out: TextRun[] = [];
  let position = 0;
  for (const run of runs) {
    const from = Math.max(start, position);
    const to = Math.min(end, position + run.count);
    if (to > from) out.push({ value: run.value, count: to - from });
    position += run.count;
    if (position >= end) break;
  }
  return out;
}

/** The rows where `keep[i]` is 1, in order. */
export function selectRows(block: ColumnBlock, keep: Uint8Array): ColumnBlock {
  const indices: number[] = [];
  for (let i = 0; i < block.rowCount; i += 1) if (keep[i] === 1) indices.push(i);
  if (indices.length === block.rowCount) return block;
  const pick = <T extends Float64Array | Uint8Array>(values: T, Type: { new (length: number): T }): T => {
    const out = new Type(indices.length);
    for (let i = 0; i < indices.length; i += 1) out[i] = values[indices[i]!]!;
    return out;
  };
  const columns = block.columns.map((column): BlockColumn => {
    switch (column.kind) {
      case 'number':
        return { ...column, values: pick(column.values, Float64Array), nulls: column.nulls === null ? null : pick(column.nulls, Uint8Array) };
      case 'bool':
        return { ...column, values: pick(column.values, Uint8Array), nulls: column.nulls === null ? null : pick(column.nulls, Uint8Array) };
      case 'epochMs':
        return { ...column, values: pick(column.values, Float64Array) };
      case 'text': {
        const perRow = textValues(column.runs, block.rowCount);
        const runs: TextRun[] = [];
        for (const index of indices) {
          const value = perRow[index]!;
          const last = runs[runs.length - 1];
          if (last !== undefined && last.value === value) last.count += 1;
          else runs.push({ value, count: 1 });
        }
        return { ...column, runs };
      }
    }
  });
  return { rowCount: indices.length, columns };
}

/** The value of a text column at every row. */
export function textValues(runs: ReadonlyArray<TextRun>, rowCount: number): string[] {
  const out = new Array<string>(rowCount);
  let position = 0;
  for (const run of runs) {
    out.fill(run.value, position, position + run.count);
    position += run.count;
  }
  return out;
}

/** The value of column `index` at row `row` as it appears in a JSON row (`null`, a number, a boolean or a string). */
function rowValue(column: BlockColumn, row: number, text: string[] | null): unknown {
  switch (column.kind) {
    case 'number':
      return column.nulls !== null && column.nulls[row] === 1 ? null : column.values[row];
    case 'bool':
      return column.nulls !== null && column.nulls[row] === 1 ? null : column.values[row] === 1;
    case 'epochMs':
      return column.values[row];
    case 'text':
      return text![row];
  }
}

/**
 * The block as compact rows (one array of values per row, in column order): what a ClickHouse
 * server gets as JSONCompactEachRow, and what tests compare. `epochMs` stays an integer, which
 * ClickHouse reads into DateTime64(3) as milliseconds.
 */
export function blockRows(block: ColumnBlock): unknown[][] {
  const texts = block.columns.map((column) => (column.kind === 'text' ? textValues(column.runs, block.rowCount) : null));
  const rows = new Array<unknown[]>(block.rowCount);
  for (let row = 0; row < block.rowCount; row += 1) {
    rows[row] = block.columns.map((column, index) => rowValue(column, row, texts[index]!));
  }
  return rows;
}
