import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  createClient,
  type ClickHouseClient,
  type ClickHouseClientConfigOptions,
  type ClickHouseSettings,
} from '@clickhouse/client';
import type * as ChdbModule from 'chdb';
import type * as ChdbConnectionModule from 'chdb/connection';
import type { z } from 'zod';
import type { Logger } from '../logging/logger';
import { ALLOCATOR_TUNABLES, allocatorTunablesSet, usesGlibc } from '../process/allocator-tunables';
import {
  DEFAULT_INSERT_CHUNK_ROWS,
  assertIdentifier,
  chunkRows,
  parseRows,
  qualifySql,
  type Analytics,
  type CompactRows,
  type InsertOptions,
} from './analytics';
import { arrowColumns, arrowSelectList, loadArrowBinding, type ArrowBinding } from './chdb-arrow-input';
import { assertBlockShape, blockRows, sliceBlock, type ColumnBlock } from './column-block';

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
  /** Embedded chDB only: sessions that serve reads beside the write session (default 2). */
  chdbReadSessions?: number;
}

/**
 * Sent with every query so both backends answer in the same shape: the server quotes 64-bit
 * integers in JSON by default, chDB does not. Quoted is the lossless choice. On chDB this becomes
 * a `SET` on the read session, always to the same value, so it cannot leak into other work.
 */
const QUERY_SETTINGS: ClickHouseSettings = { output_format_json_quote_64bit_integers: 1 };

/** Read sessions of embedded chDB: reads run beside the insert session and beside each other. */
export const DEFAULT_CHDB_READ_SESSIONS = 2;

type ChdbConnection = ReturnType<typeof ChdbConnectionModule.createChdbConnection>;
type ChdbSession = InstanceType<typeof ChdbModule.Session>;

/** A read session of chDB: `@clickhouse/client` over `chdb/connection` (the same client code as a server's). */
interface ChdbReader {
  client: ClickHouseClient;
  connection: ChdbConnection;
}

/**
 * The write session of chDB: chdb's own `Session` (DDL, raw text inserts), whose native connection
 * also takes Arrow column blocks (`arrow`, null when the installed chdb has no such binding).
 */
interface ChdbWriter {
  session: ChdbSession;
  arrow: ArrowBinding | null;
}

/** One chDB session and the work queued on it. */
interface ChdbLane<Session> {
  session: Session;
  tail: Promise<unknown>;
  pending: number;
}

/** The engines behind the port: a server (concurrent HTTP requests), or chDB sessions in this process. */
export type AnalyticsEngine = { backend: 'server'; client: ClickHouseClient } | { backend: 'chdb'; writer: ChdbWriter; readers: ChdbReader[] };

export class ClickHouseAnalytics implements Analytics {
  /**
   * chDB only. One chDB session runs one statement at a time (measured: a `SELECT 1` waits for a
   * running query on the same session, and runs at once on another session of the same engine:
   * bench/telemetry-ingest/chdb-concurrency.js). So inserts and DDL go to the write session and
   * reads to read sessions of their own, each a FIFO: a read never waits behind an insert.
   * Inserts carry their settings in the statement (`INSERT … SETTINGS insert_deduplication_token`),
   * never as a session `SET`, so nothing of one insert outlives it. The queues also make `close()`
   * wait for work in flight: closing a chDB session mid-operation aborts the engine for the rest of
   * the process.
   */
  private readonly writeLane: ChdbLane<ChdbWriter> | null;
  private readonly readLanes: Array<ChdbLane<ChdbReader>>;
  private closed = false;
  /** Names of Arrow blocks registered on the write session (unique per insert). */
  private arrowBlocks = 0;
  readonly backend: AnalyticsBackend;

  constructor(
    private readonly engine: AnalyticsEngine,
    readonly database: string,
    private readonly logger: Logger,
    private readonly insertChunkRows: number = DEFAULT_INSERT_CHUNK_ROWS,
  ) {
    assertIdentifier('database', database);
    chunkRows([], insertChunkRows); // validates the chunk size up front
    this.backend = engine.backend;
    const lane = <Session>(session: Session): ChdbLane<Session> => ({ session, tail: Promise.resolve(), pending: 0 });
    this.writeLane = engine.backend === 'chdb' ? lane(engine.writer) : null;
    this.readLanes = engine.backend === 'chdb' ? engine.readers.map((reader) => lane(reader)) : [];
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
    await this.insertChunks(table, null, rows, options);
  }

  /**
   * Like {@link insert}, with rows as arrays of values in `columns` order, sent as
   * JSONCompactEachRow (no key repeated per row). Same chunks, same deduplication tokens.
   */
  async insertCompact(table: string, block: CompactRows, options: InsertOptions = {}): Promise<void> {
    if (block.columns.length === 0) throw new Error('analytics insert: a compact block names its columns');
    for (const column of block.columns) assertIdentifier('column', column);
    await this.insertChunks(table, block.columns, block.rows, options);
  }

  private async insertChunks(table: string, columns: readonly string[] | null, rows: readonly object[], options: InsertOptions): Promise<void> {
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
      // Always sent, '' when absent: an insert never inherits anything from another one.
      const token = deduplicationToken === undefined ? '' : `${deduplicationToken}:${index}`;
      await this.insertChunk(qualifiedTable, columns, chunk, token);
    }
    this.logger.debug(
      { table: qualifiedTable, rows: rows.length, chunks: chunks.length, ms: Date.now() - startedAt },
      'analytics insert',
    );
  }

  private async insertChunk(qualifiedTable: string, columns: readonly string[] | null, chunk: readonly object[], token: string): Promise<void> {
    const format = columns === null ? 'JSONEachRow' : 'JSONCompactEachRow';
    const settings = { insert_deduplication_token: token };
    if (this.engine.backend === 'server') {
      await this.engine.client.insert({
        table: qualifiedTable,
        values: chunk as object[],
        format,
        ...(columns === null ? {} : { columns: columns as [string, ...string[]] }),
        clickhouse_settings: settings,
      });
      return;
    }
    // chDB: the body goes to the engine as bytes, parsed by its own (multithreaded) parser.
    let body = '';
    for (const row of chunk) body += `${JSON.stringify(row)}\n`;
    const payload = Buffer.from(body);
    const writer = this.writeLane!;
    await this.onLane(writer, () =>
      writer.session.session.insert({
        table: qualifiedTable,
        ...(columns === null ? {} : { columns: [...columns] }),
        settings,
        format,
        values: payload,
      }),
    );
  }

  /**
   * Inserts a columnar block (column-block.ts), split into chunks of at most `insertChunkRows`
   * with the same deduplication tokens as {@link insert}. Embedded chDB reads each chunk's typed
   * arrays through the Arrow C data interface (no text at all); a server gets JSONCompactEachRow.
   */
  /** How `insertColumns` reaches the engine: Arrow column buffers (embedded chDB), or JSONCompactEachRow text. */
  get columnarInput(): 'arrow' | 'json' {
    return this.writeLane?.session.arrow ? 'arrow' : 'json';
  }

  async insertColumns(table: string, block: ColumnBlock, options: InsertOptions = {}): Promise<void> {
    this.assertOpen();
    if (block.columns.length === 0) throw new Error('analytics insert: a column block names its columns');
    for (const column of block.columns) assertIdentifier('column', column.name);
    assertBlockShape(block);
    const qualifiedTable = `${this.database}.${assertIdentifier('table', table)}`;
    const { deduplicationToken } = options;
    if (deduplicationToken !== undefined && deduplicationToken.length === 0) throw new Error('analytics insert: deduplicationToken must not be empty');
    const startedAt = Date.now();
    let chunks = 0;
    for (let start = 0; start < block.rowCount; start += this.insertChunkRows, chunks += 1) {
      const chunk = sliceBlock(block, start, Math.min(block.rowCount, start + this.insertChunkRows));
      const token = deduplicationToken === undefined ? '' : `${deduplicationToken}:${chunks}`;
      const writer = this.writeLane;
      if (writer !== null && writer.session.arrow !== null) await this.insertArrow(writer, qualifiedTable, chunk, token);
      else await this.insertChunk(qualifiedTable, chunk.columns.map((column) => column.name), blockRows(chunk), token);
    }
    this.logger.debug({ table: qualifiedTable, rows: block.rowCount, chunks, ms: Date.now() - startedAt }, 'analytics columnar insert');
  }

  private async insertArrow(writer: ChdbLane<ChdbWriter>, qualifiedTable: string, chunk: ColumnBlock, token: string): Promise<void> {
    const { session, arrow } = writer.session;
    const columns = arrowColumns(chunk);
    const names = chunk.columns.map((column) => column.name).join(', ');
    await this.onLane(writer, async () => {
      // Registered only once it is this insert's turn: the name is read once, by this statement.
      const name = `arena_block_${(this.arrowBlocks += 1)}`;
      arrow!.register(session.connection, name, columns);
      try {
        await session.queryAsync(
          `INSERT INTO ${qualifiedTable} (${names}) SETTINGS insert_deduplication_token = ${quoteString(token)} SELECT ${arrowSelectList(chunk)} FROM arrowstream('${name}')`,
          { format: 'CSV' },
        );
      } finally {
        arrow!.unregister(session.connection, name);
      }
    });
  }

  async query<Row>(sql: string, params: Readonly<Record<string, unknown>>, rowSchema: z.ZodType<Row>): Promise<Row[]> {
    this.assertOpen();
    const qualifiedSql = qualifySql(sql, this.database);
    const rows = await this.onReader(async (client) => {
      const resultSet = await client.query({
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
    if (this.engine.backend === 'server') {
      await this.engine.client.command({ query: qualifiedSql, query_params: { ...params } });
      return;
    }
    const writer = this.writeLane!;
    const { session } = writer.session;
    await this.onLane(writer, () =>
      Object.keys(params).length === 0 ? session.queryAsync(qualifiedSql, { format: 'CSV' }) : session.queryBindAsync(qualifiedSql, { ...params }, { format: 'CSV' }),
    );
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    const result = await this.onReader((client) => client.ping({ select: true }));
    if (!result.success) this.logger.warn({ err: result.error, backend: this.backend }, 'analytics ping failed');
    return result.success;
  }

  /** Operations waiting or running per chDB session (write first); empty for a server. */
  queueDepths(): { write: number; read: number[] } {
    return { write: this.writeLane?.pending ?? 0, read: this.readLanes.map((lane) => lane.pending) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.engine.backend === 'server') {
      await this.engine.client.close();
      return;
    }
    const writer = this.writeLane!;
    await Promise.all([
      this.onLane(writer, async () => writer.session.session.close()),
      ...this.readLanes.map((lane) => this.onLane(lane, () => lane.session.client.close())),
    ]);
  }

  /** A read runs on the least busy read session (the first one on a tie). */
  private onReader<T>(operation: (client: ClickHouseClient) => Promise<T>): Promise<T> {
    if (this.engine.backend === 'server') return operation(this.engine.client);
    const lane = this.readLanes.reduce((best, candidate) => (candidate.pending < best.pending ? candidate : best));
    return this.onLane(lane, () => operation(lane.session.client));
  }

  private onLane<T>(lane: ChdbLane<unknown>, operation: () => Promise<T>): Promise<T> {
    lane.pending += 1;
    const result = lane.tail.then(operation);
    lane.tail = result.catch(() => undefined);
    return result.finally(() => {
      lane.pending -= 1;
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('analytics client is closed');
  }
}

/** Opens the analytics store (server when `url` is set, else embedded chDB) and creates the database. */
export async function createAnalytics(options: CreateAnalyticsOptions): Promise<ClickHouseAnalytics> {
  const database = assertIdentifier('database', options.database);
  const opened = options.url ? openServer(options.url) : openEmbedded(options.dataDir, options.chdbReadSessions ?? DEFAULT_CHDB_READ_SESSIONS);
  const analytics = new ClickHouseAnalytics(opened.engine, database, options.logger, options.insertChunkRows);
  try {
    await analytics.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
  } catch (error) {
    await analytics.close();
    throw error;
  }
  options.logger.info({ backend: opened.engine.backend, database, location: opened.location }, 'analytics store ready');
  if (usesGlibc() && !allocatorTunablesSet()) {
    // The process that ingests telemetry is the one this matters for (allocator-tunables.ts). Info,
    // not warn: CLI commands run at LOG_LEVEL=warn keep their output as it was.
    options.logger.info(
      { GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? null, recommended: ALLOCATOR_TUNABLES },
      'GLIBC_TUNABLES does not fix the malloc mmap threshold: memory freed after telemetry uploads stays with this process; start it with GLIBC_TUNABLES=' +
        ALLOCATOR_TUNABLES,
    );
  }
  return analytics;
}

type ChdbClientConnection = NonNullable<ClickHouseClientConfigOptions['connection']>;

interface OpenedEngine {
  engine: AnalyticsEngine;
  /** Where the data lives, safe to log (no credentials). */
  location: string;
}

function openServer(url: string): OpenedEngine {
  const parsed = new URL(url);
  // No `database` here: every statement names `{db}` explicitly, and the database may not exist yet.
  const client = createClient({ url, application: 'lapxcel-arena' });
  return { engine: { backend: 'server', client }, location: `${parsed.protocol}//${parsed.host}` };
}

function openEmbedded(dataDir: string, readSessions: number): OpenedEngine {
  if (!Number.isInteger(readSessions) || readSessions < 1) throw new Error(`chDB read sessions must be a positive integer, got ${readSessions}`);
  const path = resolve(dataDir, 'chdb');
  mkdirSync(path, { recursive: true });
  const { chdb, connection: chdbConnection } = loadChdb();
  // libchdb binds one data directory per process and gives each connection its own session on it.
  const reader = (): ChdbReader => {
    const connection = chdbConnection.createChdbConnection({ path });
    // chdb types its connection against the separate @clickhouse/client-common package, whose
    // ClickHouseSettings lags the copy bundled in @clickhouse/client by a release; the runtime
    // contract is the same (both are the upstream `Connection` interface), only the types drift.
    const client = createClient({ connection: connection as unknown as ChdbClientConnection });
    return { client, connection };
  };
  const writer: ChdbWriter = { session: new chdb.Session(path), arrow: loadArrowBinding(chdb) };
  const readers = Array.from({ length: readSessions }, reader);
  return { engine: { backend: 'chdb', writer, readers }, location: path };
}

/** A ClickHouse string literal (backslash and quote escaped). */
function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Loaded on first use, not at import: a deployment pointed at a ClickHouse server never maps
 * libchdb (hundreds of MB) into memory, and a host where it cannot load still gets the server.
 */
function loadChdb(): { chdb: typeof ChdbModule; connection: typeof ChdbConnectionModule } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { chdb: require('chdb') as typeof ChdbModule, connection: require('chdb/connection') as typeof ChdbConnectionModule };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`embedded analytics (chDB) could not be loaded: ${reason}; set CLICKHOUSE_URL to use a ClickHouse server`, {
      cause: error,
    });
  }
}
