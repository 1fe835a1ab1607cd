import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  createClient,
  type ClickHouseClient,
  type ClickHouseClientConfigOptions,
  type ClickHouseSettings,
} from '@clickhouse/client';
import type * as ChdbConnectionModule from 'chdb/connection';
import type { z } from 'zod';
import type { Logger } from '../logging/logger';
import {
  DEFAULT_INSERT_CHUNK_ROWS,
  assertIdentifier,
  chunkRows,
  parseRows,
  qualifySql,
  type Analytics,
  type InsertOptions,
} from './analytics';

/**
 * The Analytics port over `@clickhouse/client`, against either a ClickHouse server (HTTP) or
 * chDB running inside this process (`chdb/connection` plugged into the same client). Same SQL,
 * same engine; docs/analytics-port.md explains the choice and its limits.
 */

export type AnalyticsBackend = 'server' | 'chdb';

export interface CreateAnalyticsOptions {
  /** ClickHouse server HTTP(S) URL (credentials may be in it). Unset: embedded chDB. */
  url?: string;
  /** Database `{db}` stands for; created if missing. */
  database: string;
  /** Application data directory; chDB keeps its files in `<dataDir>/chdb`. Unused with `url`. */
  dataDir: string;
  logger: Logger;
  /** Rows per INSERT statement. Changing it changes dedup tokens of re-inserted batches. */
  insertChunkRows?: number;
}

/**
 * Sent with every query so both backends answer in the same shape: the server quotes 64-bit
 * integers in JSON by default, chDB does not. Quoted is the lossless choice.
 */
const QUERY_SETTINGS: ClickHouseSettings = { output_format_json_quote_64bit_integers: 1 };

export class ClickHouseAnalytics implements Analytics {
  /**
   * chDB only: every operation runs after the previous one settles. chdb/connection turns
   * `clickhouse_settings` into `SET …;` statements on one shared engine session, where they
   * outlive the statement; serialising keeps each operation's settings its own. It also makes
   * `close()` wait for work in flight: closing a chDB connection mid-operation aborts the
   * engine for the rest of the process.
   */
  private queueTail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
    readonly backend: AnalyticsBackend,
    private readonly logger: Logger,
    private readonly insertChunkRows: number = DEFAULT_INSERT_CHUNK_ROWS,
  ) {
    assertIdentifier('database', database);
    chunkRows([], insertChunkRows); // validates the chunk size up front
  }

  async ensureSchema(statements: readonly string[]): Promise<void> {
    for (const [index, statement] of statements.entries()) {
      try {
        await this.command(statement);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(
          `analytics schema statement ${index + 1} of ${statements.length} failed: ${reason}\n${statement.trim()}`,
          { cause: error },
        );
      }
    }
  }

  async insert<Row extends object>(table: string, rows: readonly Row[], options: InsertOptions = {}): Promise<void> {
    this.assertOpen();
    const qualifiedTable = `${this.database}.${assertIdentifier('table', table)}`;
    const { deduplicationToken } = options;
    if (deduplicationToken !== undefined && deduplicationToken.length === 0) {
      // ClickHouse reads an empty token as "no token": refuse rather than silently not dedup.
      throw new Error('analytics insert: deduplicationToken must not be empty');
    }
    const chunks = chunkRows(rows, this.insertChunkRows);
    const startedAt = Date.now();
    for (const [index, chunk] of chunks.entries()) {
      // Always sent, '' when absent: on chDB a token from an earlier insert would otherwise
      // still be set on the session and make this insert a silent duplicate of that one.
      const insertDeduplicationToken = deduplicationToken === undefined ? '' : `${deduplicationToken}:${index}`;
      await this.run(() =>
        this.client.insert({
          table: qualifiedTable,
          values: chunk,
          format: 'JSONEachRow',
          clickhouse_settings: { insert_deduplication_token: insertDeduplicationToken },
        }),
      );
    }
    this.logger.debug(
      { table: qualifiedTable, rows: rows.length, chunks: chunks.length, ms: Date.now() - startedAt },
      'analytics insert',
    );
  }

  async query<Row>(sql: string, params: Readonly<Record<string, unknown>>, rowSchema: z.ZodType<Row>): Promise<Row[]> {
    this.assertOpen();
    const qualifiedSql = qualifySql(sql, this.database);
    const rows = await this.run(async () => {
      const resultSet = await this.client.query({
        query: qualifiedSql,
        query_params: { ...params },
        format: 'JSONEachRow',
        clickhouse_settings: QUERY_SETTINGS,
      });
      return resultSet.json<unknown>();
    });
    return parseRows(rows, rowSchema, qualifiedSql);
  }

  async command(sql: string, params: Readonly<Record<string, unknown>> = {}): Promise<void> {
    this.assertOpen();
    const qualifiedSql = qualifySql(sql, this.database);
    await this.run(() => this.client.command({ query: qualifiedSql, query_params: { ...params } }));
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    const result = await this.run(() => this.client.ping({ select: true }));
    if (!result.success) this.logger.warn({ err: result.error, backend: this.backend }, 'analytics ping failed');
    return result.success;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.run(() => this.client.close());
  }

  private run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.backend === 'server') return operation();
    const result = this.queueTail.then(operation);
    this.queueTail = result.catch(() => undefined);
    return result;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('analytics client is closed');
  }
}

/** Opens the analytics store (server when `url` is set, else embedded chDB) and creates the database. */
export async function createAnalytics(options: CreateAnalyticsOptions): Promise<Analytics> {
  const database = assertIdentifier('database', options.database);
  const opened = options.url ? openServer(options.url) : openEmbedded(options.dataDir);
  const analytics = new ClickHouseAnalytics(opened.client, database, opened.backend, options.logger, options.insertChunkRows);
  try {
    await analytics.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
  } catch (error) {
    await analytics.close();
    throw error;
  }
  options.logger.info({ backend: opened.backend, database, location: opened.location }, 'analytics store ready');
  return analytics;
}

type ChdbClientConnection = NonNullable<ClickHouseClientConfigOptions['connection']>;

interface OpenedClient {
  client: ClickHouseClient;
  backend: AnalyticsBackend;
  /** Where the data lives, safe to log (no credentials). */
  location: string;
}

function openServer(url: string): OpenedClient {
  const parsed = new URL(url);
  // No `database` here: every statement names `{db}` explicitly, and the database may not exist yet.
  const client = createClient({ url, application: 'lapxcel-arena' });
  return { client, backend: 'server', location: `${parsed.protocol}//${parsed.host}` };
}

function openEmbedded(dataDir: string): OpenedClient {
  const path = resolve(dataDir, 'chdb');
  mkdirSync(path, { recursive: true });
  const { createChdbConnection } = loadChdbConnection();
  // chdb types its connection against the separate @clickhouse/client-common package, whose
  // ClickHouseSettings lags the copy bundled in @clickhouse/client by a release; the runtime
  // contract is the same (both are the upstream `Connection` interface), only the types drift.
  const connection = createChdbConnection({ path }) as unknown as ChdbClientConnection;
  const client = createClient({ connection });
  return { client, backend: 'chdb', location: path };
}

/**
 * Loaded on first use, not at import: a deployment pointed at a ClickHouse server never maps
 * libchdb (hundreds of MB) into memory, and a host where it cannot load still gets the server.
 */
function loadChdbConnection(): typeof ChdbConnectionModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('chdb/connection') as typeof ChdbConnectionModule;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`embedded analytics (chDB) could not be loaded: ${reason}; set CLICKHOUSE_URL to use a ClickHouse server`, {
      cause: error,
    });
  }
}
