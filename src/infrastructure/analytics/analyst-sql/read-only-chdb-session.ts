import { resolve } from 'node:path';
import type * as Chdb from 'chdb';

export interface AnalystLimits {
  maxExecutionTimeSec: number;
  maxMemoryBytes: number;
  maxResultRows: number;
}

export interface AnalystQuery {
  sql: string;
  database: string;
  /** Output format when the SQL has no FORMAT clause. */
  format: string;
  /** Settings the client sent (URL parameters): applied with SET, which readonly=1 refuses unless unchanged. */
  settings: Record<string, string>;
  /** ClickHouse query parameters ({name:Type} in the SQL). */
  params: Record<string, string>;
}

export interface AnalystResult {
  body: Buffer;
  rowsRead: number;
  bytesRead: number;
  elapsedSec: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A chDB session of its own on the app's data directory, for analysts. libchdb binds one data
 * directory per process but gives each session its own settings, so this one runs with
 * `readonly = 1` and resource limits set once, while the app's own session keeps writing.
 * readonly=1 refuses writes, DDL, SYSTEM, table functions (file(), url(): no reading the host's
 * files) and any change of a setting, SETTINGS clauses included. Queries run one at a time.
 */
export class ReadOnlyChdbSession {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  private constructor(private readonly session: Chdb.Session) {}

  static async open(dataDir: string, limits: AnalystLimits): Promise<ReadOnlyChdbSession> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const chdb = require('chdb') as typeof Chdb;
    const session = new chdb.Session(resolve(dataDir, 'chdb'));
    const statements = [
      // A ClickHouse server's default (chDB's is 0): clients and their JSON parsing expect it.
      `SET output_format_json_quote_64bit_integers = 1`,
      `SET max_execution_time = ${limits.maxExecutionTimeSec}`,
      `SET timeout_overflow_mode = 'throw'`,
      `SET max_memory_usage = ${limits.maxMemoryBytes}`,
      `SET max_result_rows = ${limits.maxResultRows}`,
      `SET result_overflow_mode = 'throw'`,
      // Last: after it, nothing on this session can change a setting again.
      `SET readonly = 1`,
    ];
    for (const statement of statements) await session.queryAsync(statement, { format: 'TSV' });
    return new ReadOnlyChdbSession(session);
  }

  /** Queries waiting or running (the server refuses new ones beyond a bound). */
  get queued(): number {
    return this.pending;
  }

  run(query: AnalystQuery): Promise<AnalystResult> {
    this.pending += 1;
    const result = this.tail.then(() => this.execute(query));
    this.tail = result.catch(() => undefined);
    return result.finally(() => {
      this.pending -= 1;
    });
  }

  /** Waits for the query in flight: closing a chDB session mid-query aborts the engine. */
  async close(): Promise<void> {
    await this.tail;
    this.session.close();
  }

  private async execute(query: AnalystQuery): Promise<AnalystResult> {
    if (!IDENTIFIER.test(query.database)) throw new Error(`Code: 81. DB::Exception: Database name ${JSON.stringify(query.database)} is not valid. (UNKNOWN_DATABASE)`);
    await this.session.queryAsync(`USE ${query.database}`, { format: 'TSV' });
    for (const [name, value] of Object.entries(query.settings)) {
      if (!IDENTIFIER.test(name)) throw new Error(`Code: 115. DB::Exception: Unknown setting ${JSON.stringify(name)}. (UNKNOWN_SETTING)`);
      await this.session.queryAsync(`SET ${name} = '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`, { format: 'TSV' });
    }
    const options = { format: query.format };
    const result = Object.keys(query.params).length > 0
      ? await this.session.queryBindAsync(query.sql, query.params, options)
      : await this.session.queryAsync(query.sql, options);
    return { body: Buffer.from(result.bytes()), rowsRead: result.rowsRead, bytesRead: result.bytesRead, elapsedSec: result.elapsed };
  }
}
