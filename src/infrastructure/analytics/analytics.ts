import { z } from 'zod';
import type { ColumnBlock } from './column-block';

/**
 * The Analytics port: the only way the rest of the system talks to ClickHouse (a server, or
 * chDB embedded in this process — see clickhouse-analytics.ts and docs/analytics-port.md).
 *
 * Naming tables: SQL text given to `ensureSchema`, `query` and `command` writes the analytics
 * database as the literal placeholder `{db}` (`SELECT count() FROM {db}.telemetry_points`); the
 * adapter replaces it with the configured database name before sending. `insert` takes a bare
 * table name and qualifies it the same way. No other rewriting happens: values always travel as
 * ClickHouse query parameters (`{name:Type}` in the SQL, `params` beside it), never spliced in.
 */
export interface Analytics {
  /** Name of the ClickHouse database `{db}` stands for. */
  readonly database: string;

  /**
   * Runs DDL statements in order. Each statement must be idempotent by itself
   * (`CREATE TABLE IF NOT EXISTS`, `ALTER TABLE … ADD COLUMN IF NOT EXISTS`), so calling this
   * at every start-up is safe. Stops at the first failing statement, naming it.
   */
  ensureSchema(statements: readonly string[]): Promise<void>;

  /**
   * Inserts rows as JSONEachRow, split into chunks of at most `insertChunkRows` (50k by
   * default). Row objects' keys are column names. An empty array does nothing.
   *
   * `deduplicationToken` makes the insert safe to repeat (replay, redelivery): it is sent as
   * `insert_deduplication_token`, suffixed with the chunk index, so repeating the same rows in
   * the same order with the same token writes nothing new. ClickHouse only honours it on
   * tables that keep dedup history: replicated tables, or plain MergeTree created with
   * `SETTINGS non_replicated_deduplication_window = N` (N >= chunks remembered).
   */
  insert<Row extends object>(table: string, rows: readonly Row[], options?: InsertOptions): Promise<void>;

  /**
   * The same insert with rows in compact form: the column names once, each row an array of
   * values in that order (sent as JSONCompactEachRow). Same chunks and deduplication tokens.
   */
  insertCompact(table: string, block: CompactRows, options?: InsertOptions): Promise<void>;

  /**
   * The same insert with rows in columnar form (column-block.ts): typed arrays, no text. Embedded
   * chDB reads them through the Arrow C data interface; a server gets JSONCompactEachRow. Same
   * chunks and deduplication tokens.
   */
  insertColumns(table: string, block: ColumnBlock, options?: InsertOptions): Promise<void>;

  /**
   * Runs a SELECT with ClickHouse query parameters and validates every row against
   * `rowSchema`; a row of the wrong shape rejects with {@link AnalyticsRowValidationError}.
   * 64-bit integers (e.g. `count()`) arrive as JSON strings on every backend, so schemas use
   * `z.coerce.number()` (or `z.coerce.bigint()`) for them.
   */
  query<Row>(sql: string, params: Readonly<Record<string, unknown>>, rowSchema: z.ZodType<Row>): Promise<Row[]>;

  /** Runs a statement that returns no rows (DDL, `INSERT … SELECT`, `OPTIMIZE`, …). */
  command(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void>;

  /** True when the engine answers a `SELECT 1`; never throws. */
  ping(): Promise<boolean>;

  /** Waits for operations in flight, then releases the connection. Idempotent. */
  close(): Promise<void>;
}

/** Rows in compact form: column names once, then one array of values per row, in that order. */
export interface CompactRows {
  columns: readonly string[];
  rows: ReadonlyArray<readonly unknown[]>;
}

export interface InsertOptions {
  /** Same token + same rows in the same order = written once. See {@link Analytics.insert}. */
  deduplicationToken?: string;
}

/** The placeholder for the analytics database in SQL given to the port. */
export const DATABASE_PLACEHOLDER = '{db}';

/** Default rows per INSERT: inside the 10k–100k band ClickHouse handles best per part. */
export const DEFAULT_INSERT_CHUNK_ROWS = 50_000;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Database and table names are spliced into SQL, so only plain identifiers are accepted. */
export function assertIdentifier(kind: string, name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`analytics ${kind} name must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got ${JSON.stringify(name)}`);
  }
  return name;
}

/** Replaces every `{db}` in `sql` with the (already validated) database name. */
export function qualifySql(sql: string, database: string): string {
  return sql.split(DATABASE_PLACEHOLDER).join(database);
}

/** Splits rows into consecutive chunks of at most `size`; order is kept so tokens stay stable. */
export function chunkRows<Row>(rows: readonly Row[], size: number): Row[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`chunk size must be a positive integer, got ${size}`);
  const chunks: Row[][] = [];
  for (let start = 0; start < rows.length; start += size) chunks.push(rows.slice(start, start + size));
  return chunks;
}

/** A query returned a row its schema rejects: the SQL and the schema disagree. */
export class AnalyticsRowValidationError extends Error {
  constructor(
    readonly rowIndex: number,
    readonly issues: z.core.$ZodIssue[],
    readonly row: unknown,
    readonly sql: string,
  ) {
    super(
      `analytics query returned row ${rowIndex} that does not match its schema:\n` +
        `${z.prettifyError(new z.ZodError(issues))}\n` +
        `row: ${truncate(String(JSON.stringify(row)), 500)}\nsql: ${truncate(sql, 500)}`,
    );
    this.name = 'AnalyticsRowValidationError';
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more chars)`;
}

/** Validates each row; the first bad row rejects the whole result (partial results hide bugs). */
export function parseRows<Row>(rows: readonly unknown[], rowSchema: z.ZodType<Row>, sql: string): Row[] {
  return rows.map((row, index) => {
    const parsed = rowSchema.safeParse(row);
    if (!parsed.success) throw new AnalyticsRowValidationError(index, parsed.error.issues, row, sql);
    return parsed.data;
  });
}
