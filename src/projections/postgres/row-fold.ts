import type { Knex } from 'knex';

/**
 * Row changes of many events folded in memory and written with a few multi-row statements: the
 * page form of a projection's row handlers for a rebuild (`foldPage`, postgres-projection.ts), whose
 * tables are fresh and have no other writer. Live, the same handlers write each change as its own
 * statement (row-statements.ts).
 *
 * Each change has the SQL meaning of its statement:
 * - `insertIgnore(row)`: INSERT … ON CONFLICT (key) DO NOTHING;
 * - `upsert(row, changes)`: INSERT … ON CONFLICT (key) DO UPDATE SET changes;
 * - `update(key, changes)`: UPDATE … WHERE key = … (nothing when the row is absent).
 * A change is a value (SET col = value) or `add`, `least`, `greatest`, `ifNull` (col + n,
 * least(col, v), greatest(col, v), coalesce(col, v); least and greatest skip nulls, as in SQL).
 *
 * Per key, two outcomes are folded, because the row may or may not exist before the page: the
 * changes to apply to a row that exists (composed column by column), and the row the page
 * creates if it does not (known in memory: the first insert, with what follows applied to it).
 * Written as: one UPDATE per shape of changes (rows that existed), then one INSERT … ON CONFLICT
 * DO NOTHING per column set (rows that did not). With no other writer between the two, that is
 * what applying the statements one by one leaves. Changes that do not compose into one (e.g.
 * `add` then `least` on one column), or a change to a column the created row leaves to a table
 * default not declared in `defaults`, throw {@link NotFoldableError}: the caller applies the page
 * event by event instead.
 */

/** A column's value as the fold holds it: JSON-representable (jsonb columns take the object itself). */
export type ColumnValue = string | number | boolean | null | ColumnValue[] | { [key: string]: ColumnValue };

/** A jsonb column's value from event data (plain JSON by construction: decoded from the store's jsonb). */
export const jsonColumn = (value: Readonly<Record<string, unknown>>): ColumnValue => value as { [key: string]: ColumnValue };

/** A change that combines with the column's value (a class, so that no jsonb value is taken for one). */
export class CombiningChange {
  constructor(
    readonly op: 'add' | 'least' | 'greatest' | 'ifNull',
    readonly value: ColumnValue,
  ) {}
}
export type ColumnChange = { op: 'set'; value: ColumnValue } | CombiningChange;

/** What a projection's row handlers say (`fold.on`): folded for a rebuild page (RowFold), one statement each live (RowStatements). */
export interface RowWriter {
  /** INSERT row ON CONFLICT (key) DO NOTHING. */
  insertIgnore(table: string, row: Row): void;
  /** INSERT row ON CONFLICT (key) DO UPDATE SET changes. */
  upsert(table: string, row: Row, onConflict: RowChanges): void;
  /** UPDATE table SET changes WHERE key = key. */
  update(table: string, key: string, changes: RowChanges): void;
}

/** The SQL of a change to `target` (the column as it is) with `value` (the change's value). */
export function changeExpression(target: string, value: string, op: ColumnChange['op']): string {
  return { set: value, add: `${target} + ${value}`, least: `least(${target}, ${value})`, greatest: `greatest(${target}, ${value})`, ifNull: `coalesce(${target}, ${value})` }[op];
}

/** col + n (null stays null, as in SQL). */
export const add = (value: number): CombiningChange => new CombiningChange('add', value);
/** least(col, v): numbers or timestamps (ISO strings); nulls are skipped. */
export const least = (value: number | string | null): CombiningChange => new CombiningChange('least', value);
/** greatest(col, v): numbers or timestamps (ISO strings); nulls are skipped. */
export const greatest = (value: number | string | null): CombiningChange => new CombiningChange('greatest', value);
/** coalesce(col, v): v only where the column is null. */
export const ifNull = (value: ColumnValue): CombiningChange => new CombiningChange('ifNull', value);

/** Column → new value, or a combining change. `undefined` leaves the column alone (as knex does with a missing key). */
export type RowChanges = Record<string, ColumnValue | CombiningChange | undefined>;
export type Row = Record<string, ColumnValue | undefined>;

/** A table a fold writes: its conflict key (one column) and the defaults of columns a created row may leave out. */
export interface FoldTable {
  table: string;
  key: string;
  defaults?: Record<string, ColumnValue>;
}

/** The page cannot be folded exactly: apply it event by event. */
export class NotFoldableError extends Error {}

interface KeyState {
  /** Changes for a row that existed before the page, per column (composed into one). */
  existing: Map<string, ColumnChange>;
  /** The row the page created if none existed (null: it creates none). */
  created: Map<string, ColumnValue> | null;
}

function pick(a: ColumnValue, b: ColumnValue, op: 'least' | 'greatest'): ColumnValue {
  if (a === null) return b;
  if (b === null) return a;
  const comparable = (value: ColumnValue): number => (typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN);
  const left = comparable(a);
  const right = comparable(b);
  if (Number.isNaN(left) || Number.isNaN(right)) throw new NotFoldableError(`${op} of values that are neither numbers nor timestamps`);
  return (op === 'least' ? right < left : right > left) ? b : a;
}

/** The column's value after the change, given its value before. */
function applied(before: ColumnValue, change: ColumnChange): ColumnValue {
  switch (change.op) {
    case 'set':
      return change.value;
    case 'add':
      if (before === null) return null;
      if (typeof before !== 'number' || typeof change.value !== 'number') throw new NotFoldableError('add of values that are not numbers');
      return before + change.value;
    case 'least':
    case 'greatest':
      return pick(before, change.value, change.op);
    case 'ifNull':
      return before ?? change.value;
  }
}

/** One change with the effect of `first` then `second` on a column of unknown value. */
function composed(first: ColumnChange | undefined, second: ColumnChange): ColumnChange {
  if (first === undefined || second.op === 'set') return second;
  if (first.op === 'set') return { op: 'set', value: applied(first.value, second) };
  if (first.op === 'add' && second.op === 'add') return new CombiningChange('add', applied(first.value, second));
  if ((first.op === 'least' || first.op === 'greatest') && first.op === second.op) return new CombiningChange(first.op, pick(first.value, second.value, first.op));
  if (first.op === 'ifNull' && second.op === 'ifNull') return ifNull(first.value ?? second.value);
  throw new NotFoldableError(`${first.op} then ${second.op} on one column`);
}

/**
 * A value as a SQL literal of JSON text, for statements sent without parameters. A number JSON
 * cannot carry (NaN, ±Infinity) is left to the per-event path. Every `?` is written as the JSON
 * escape \u003f: knex reads `?` in a raw statement as a parameter (and eats backslashes before it)
 * even inside a literal, and `?` appears in JSON text only inside strings. The literal is the one
 * pg's `escapeLiteral` makes (quotes doubled; with a backslash, E'' with backslashes doubled),
 * built with whole-string replaces: a page's literal is megabytes, and escapeLiteral's
 * character-by-character concatenation cost more than the rest of the fold.
 */
export function jsonLiteral(value: unknown): string {
  const json = jsonText(value);
  const text = json.includes('?') ? json.replace(/\?/g, '\\u003f') : json;
  const quoted = text.includes("'") ? text.replace(/'/g, "''") : text;
  return quoted.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

/** The value as JSON text, for a statement parameter; NotFoldableError for a number JSON cannot carry. */
export function jsonText(value: unknown): string {
  assertJsonNumbers(value);
  return JSON.stringify(value);
}

/** Throws NotFoldableError for a number JSON has no form for (JSON.stringify would write null). */
function assertJsonNumbers(value: unknown): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NotFoldableError(`the number ${value} has no JSON form`);
  } else if (Array.isArray(value)) {
    for (const item of value) assertJsonNumbers(item);
  } else if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    for (const key in value) assertJsonNumbers((value as Record<string, unknown>)[key]);
  }
}

export const quoteIdentifier = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

/**
 * INSERT of the rows (the columns of the first; literals inlined) … ON CONFLICT (columns) DO
 * NOTHING: of rows with one key, the first wins, as inserting them one by one.
 */
export function insertIgnoreRowsStatement(table: string, conflictColumns: readonly string[], rows: readonly Row[]): string {
  const target = quoteIdentifier(table);
  const columns = Object.keys(rows[0]!).map(quoteIdentifier).join(', ');
  return `INSERT INTO ${target} (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::${target}, ${jsonLiteral(rows)}) ON CONFLICT (${conflictColumns.map(quoteIdentifier).join(', ')}) DO NOTHING`;
}

/** The rows of a page's events, folded per table and key, then written in a few statements. */
export class RowFold implements RowWriter {
  private readonly tables = new Map<string, { definition: FoldTable; keys: Map<string, KeyState> }>();

  /**
   * With `tablesEmpty` (a rebuild's first write into its fresh tables), no row exists before the
   * fold: the changes to existing rows, which would update nothing, are neither composed nor written.
   */
  constructor(
    tables: readonly FoldTable[],
    private readonly options: { tablesEmpty?: boolean } = {},
  ) {
    for (const definition of tables) this.tables.set(definition.table, { definition, keys: new Map() });
  }

  /** INSERT row ON CONFLICT (key) DO NOTHING. */
  insertIgnore(table: string, row: Row): void {
    this.upsert(table, row, {});
  }

  /** INSERT row ON CONFLICT (key) DO UPDATE SET changes. */
  upsert(table: string, row: Row, onConflict: RowChanges): void {
    const { definition, keys } = this.tableOf(table);
    const key = row[definition.key];
    if (typeof key !== 'string') throw new NotFoldableError(`${table}: a row without its key ${definition.key}`);
    const state = this.stateOf(keys, key);
    const changes = changeList(onConflict);
    this.compose(state, changes);
    if (state.created === null) {
      state.created = new Map(Object.entries(row).filter((entry): entry is [string, ColumnValue] => entry[1] !== undefined));
    } else {
      this.applyToCreated(definition, state.created, changes);
    }
  }

  /** UPDATE table SET changes WHERE key = key. */
  update(table: string, key: string, changes: RowChanges): void {
    const { definition, keys } = this.tableOf(table);
    const state = this.stateOf(keys, key);
    const list = changeList(changes);
    this.compose(state, list);
    if (state.created !== null) this.applyToCreated(definition, state.created, list);
  }

  /** The statements that write the folded rows (literals inlined: one round trip for all). */
  statements(): string[] {
    const statements: string[] = [];
    for (const { definition, keys } of this.tables.values()) {
      const table = quoteIdentifier(definition.table);
      const key = quoteIdentifier(definition.key);
      // Rows that existed: one UPDATE per shape of changes, before any insert of this page.
      const updates = new Map<string, { columns: [string, ColumnChange['op']][]; rows: Record<string, ColumnValue>[] }>();
      for (const [id, state] of keys) {
        if (state.existing.size === 0) continue;
        const columns = [...state.existing.entries()].map(([column, change]): [string, ColumnChange['op']] => [column, change.op]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const shape = JSON.stringify(columns);
        const group = updates.get(shape) ?? { columns, rows: [] };
        group.rows.push(Object.fromEntries([[definition.key, id], ...[...state.existing].map(([column, change]) => [column, change.value])]));
        updates.set(shape, group);
      }
      for (const { columns, rows } of updates.values()) {
        const assignments = columns.map(([column, op]) => `${quoteIdentifier(column)} = ${changeExpression(`t.${quoteIdentifier(column)}`, `v.${quoteIdentifier(column)}`, op)}`);
        statements.push(`UPDATE ${table} AS t SET ${assignments.join(', ')} FROM json_populate_recordset(NULL::${table}, ${jsonLiteral(rows)}) AS v WHERE t.${key} = v.${key}`);
      }
      // Rows that did not: one INSERT per column set, every row of the page in it.
      const inserts = new Map<string, { columns: string[]; rows: Record<string, ColumnValue>[] }>();
      for (const state of keys.values()) {
        if (state.created === null) continue;
        const columns = [...state.created.keys()].sort();
        const shape = JSON.stringify(columns);
        const group = inserts.get(shape) ?? { columns, rows: [] };
        group.rows.push(Object.fromEntries(state.created));
        inserts.set(shape, group);
      }
      for (const { columns, rows } of inserts.values()) {
        const list = columns.map(quoteIdentifier).join(', ');
        statements.push(
          `INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${table}, ${jsonLiteral(rows)}) ON CONFLICT (${key}) DO NOTHING`,
        );
      }
    }
    return statements;
  }

  /** Writes the folded rows in the caller's transaction: one round trip. */
  async write(trx: Knex.Transaction): Promise<void> {
    const statements = this.statements();
    if (statements.length > 0) await trx.raw(statements.join(';\n'));
  }

  private tableOf(table: string) {
    const found = this.tables.get(table);
    if (!found) throw new Error(`row fold: table ${table} was not declared`);
    return found;
  }

  private stateOf(keys: Map<string, KeyState>, key: string): KeyState {
    let state = keys.get(key);
    if (state === undefined) {
      state = { existing: new Map(), created: null };
      keys.set(key, state);
    }
    return state;
  }

  private compose(state: KeyState, changes: [string, ColumnChange][]): void {
    if (this.options.tablesEmpty === true) return;
    for (const [column, change] of changes) state.existing.set(column, composed(state.existing.get(column), change));
  }

  private applyToCreated(definition: FoldTable, row: Map<string, ColumnValue>, changes: [string, ColumnChange][]): void {
    for (const [column, change] of changes) {
      let before: ColumnValue;
      if (row.has(column)) before = row.get(column)!;
      else if (change.op === 'set') before = null;
      else if (definition.defaults && column in definition.defaults) before = definition.defaults[column]!;
      else throw new NotFoldableError(`${definition.table}.${column}: ${change.op} on the default of a created row, which the fold does not declare`);
      row.set(column, applied(before, change));
    }
  }
}

export function changeList(changes: RowChanges): [string, ColumnChange][] {
  const list: [string, ColumnChange][] = [];
  for (const [column, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    list.push([column, value instanceof CombiningChange ? value : { op: 'set', value }]);
  }
  return list;
}
