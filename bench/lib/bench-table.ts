/** One line of the `npm run bench` table. */
export interface BenchRow {
  readonly measure: string;
  /** Which bus the app ran on ('-' where no bus is involved). */
  readonly bus: string;
  readonly value: number;
  readonly unit: string;
  /** What the value is compared with, measured in the same run (or '-'). */
  readonly reference: string;
  readonly ratio: number | null;
  readonly target: string;
  /** null where the issue sets no target, or the row was skipped. */
  readonly met: boolean | null;
}

const COLUMNS = ['measure', 'bus', 'value', 'reference', 'ratio', 'target', 'met?'] as const;

function cells(row: BenchRow): string[] {
  const value = Number.isFinite(row.value) ? `${row.value.toLocaleString('en')} ${row.unit}` : row.unit;
  const ratio = row.ratio === null ? '-' : row.ratio >= 10 ? row.ratio.toFixed(1) : row.ratio.toFixed(3);
  const met = row.met === null ? '-' : row.met ? 'yes' : 'NO';
  return [row.measure, row.bus, value, row.reference, ratio, row.target, met];
}

/** A Markdown table (prints well in a terminal and pastes into docs/performance.md as is). */
export function formatBenchTable(rows: readonly BenchRow[]): string {
  const body = rows.map(cells);
  const widths = COLUMNS.map((title, column) => Math.max(title.length, ...body.map((line) => line[column]!.length)));
  const line = (values: readonly string[]) => `| ${values.map((value, column) => value.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(COLUMNS), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
