import type { Knex } from 'knex';
import { changeExpression, changeList, jsonLiteral, quoteIdentifier, type FoldTable, type Row, type RowChanges, type RowWriter } from './row-fold';

/**
 * One event's row changes written as they are said, one statement per change, in order: the live
 * form of a projection's `fold` handlers (postgres-projection.ts). Each is the single statement
 * the change names, so that concurrent writers of one row (a bus consumer and an API process
 * applying its own write) see what one statement per handler call gives them:
 * - `insertIgnore(row)`: INSERT … ON CONFLICT (key) DO NOTHING;
 * - `upsert(row, changes)`: INSERT … ON CONFLICT (key) DO UPDATE SET changes;
 * - `update(key, changes)`: UPDATE … WHERE key = ….
 * Values go through `json_populate_record` of the table's row type, as the folded page's do, so
 * the live path and a rebuild convert every value the same way. The statements of one event are
 * sent in one round trip.
 */
export class RowStatements implements RowWriter {
  private readonly pending: string[] = [];
  private readonly tables = new Map<string, FoldTable>();

  constructor(tables: readonly FoldTable[]) {
    for (const table of tables) this.tables.set(table.table, table);
  }

  insertIgnore(table: string, row: Row): void {
    this.upsert(table, row, {});
  }

  upsert(table: string, row: Row, onConflict: RowChanges): void {
    const { key } = this.tableOf(table);
    const columns = Object.keys(row).filter((column) => row[column] !== undefined);
    const list = columns.map(quoteIdentifier).join(', ');
    const target = quoteIdentifier(table);
    const values = `json_populate_record(NULL::${target}, ${jsonLiteral(Object.fromEntries(columns.map((column) => [column, row[column]])))})`;
    const changes = changeList(onConflict);
    const action =
      changes.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${this.assignments(changes, `(json_populate_record(NULL::${target}, ${jsonLiteral(Object.fromEntries(changes.map(([column, change]) => [column, change.value])))}))`)}`;
    this.pending.push(`INSERT INTO ${target} AS t (${list}) SELECT ${list} FROM ${values} ON CONFLICT (${quoteIdentifier(key)}) ${action}`);
  }

  update(table: string, key: string, changes: RowChanges): void {
    const definition = this.tableOf(table);
    const list = changeList(changes);
    if (list.length === 0) return;
    const target = quoteIdentifier(table);
    const keyColumn = quoteIdentifier(definition.key);
    const row = Object.fromEntries([[definition.key, key], ...list.map(([column, change]) => [column, change.value])]);
    this.pending.push(
      `UPDATE ${target} AS t SET ${this.assignments(list, 'v')} FROM json_populate_record(NULL::${target}, ${jsonLiteral(row)}) AS v WHERE t.${keyColumn} = v.${keyColumn}`,
    );
  }

  /** Runs the statements said so far in the caller's transaction (one round trip), then forgets them. */
  async write(trx: Knex.Transaction): Promise<void> {
    const statements = this.take();
    if (statements.length === 0) return;
    await trx.raw(statements.join(';\n'));
  }

  /** The statements said so far (literals inlined, no `?`), for a caller that sends them itself; then forgets them. */
  take(): string[] {
    return this.pending.splice(0);
  }

  private assignments(changes: ReturnType<typeof changeList>, source: string): string {
    return changes.map(([column, change]) => `${quoteIdentifier(column)} = ${changeExpression(`t.${quoteIdentifier(column)}`, `${source}.${quoteIdentifier(column)}`, change.op)}`).join(', ');
  }

  private tableOf(table: string): FoldTable {
    const found = this.tables.get(table);
    if (!found) throw new Error(`row statements: table ${table} was not declared`);
    return found;
  }
}
