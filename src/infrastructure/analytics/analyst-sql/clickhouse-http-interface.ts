import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { credentialsMatch, presentedCredentials } from './analyst-credentials';
import type { ReadOnlyChdbSession } from './read-only-chdb-session';

/**
 * The part of ClickHouse's HTTP interface that clients use (@clickhouse/client, Grafana's
 * ClickHouse data source, DBeaver's HTTP JDBC driver), served by the app over a read-only chDB
 * session: GET/POST `/` with the query in `query` and/or the body, `database`, `default_format`
 * and FORMAT, `param_<name>` query parameters, settings as URL parameters, basic auth or the
 * X-ClickHouse-User/-Key headers, `/ping`, gzip, and errors as ClickHouse sends them (the text
 * `Code: N. DB::Exception: ...` with `X-ClickHouse-Exception-Code`). Not the native TCP protocol.
 */

/** URL parameters that are part of the protocol, not settings. */
const PROTOCOL_PARAMETERS = new Set([
  'query', 'database', 'default_format', 'user', 'password', 'quota_key', 'query_id', 'session_id', 'session_timeout',
  'session_check', 'compress', 'decompress', 'buffer_size', 'role', 'stacktrace', 'client_protocol_version', 'close_session',
]);

/** Settings that only steer the HTTP layer: a real server takes them from readonly users too. */
const HTTP_LAYER_SETTINGS = new Set([
  'wait_end_of_query', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'http_response_buffer_size',
  'enable_http_compression', 'http_zlib_compression_level', 'cancel_http_readonly_queries_on_client_close',
  'http_wait_end_of_query', 'output_format_enable_streaming',
]);

const STATUS_BY_CODE: Record<number, number> = {
  192: 401, 193: 401, 194: 401, 516: 401,
  164: 403, 497: 403,
  27: 400, 36: 400, 42: 400, 43: 400, 46: 400, 47: 400, 62: 400, 73: 400, 115: 400, 456: 400,
  60: 404, 81: 404,
  202: 503,
};

const CONTENT_TYPES: [RegExp, string][] = [
  [/^(TabSeparated|TSV)/i, 'text/tab-separated-values; charset=UTF-8'],
  [/^CSV/i, 'text/csv; charset=UTF-8; header=absent'],
  [/^JSON/i, 'application/json; charset=UTF-8'],
  [/^(Pretty|Vertical|Markdown|Values|Raw|LineAsString|Template)/i, 'text/plain; charset=UTF-8'],
];

const MAX_QUERY_BYTES = 1024 * 1024;
const MAX_QUEUED_QUERIES = 16;
const SERVER_NAME = 'lapxcel-arena-chdb';

export interface ClickHouseHttpInterfaceOptions {
  session: ReadOnlyChdbSession;
  password: string;
  defaultDatabase: string;
  host: string;
  port: number;
  logger: Logger;
}

export interface RunningClickHouseHttpInterface {
  url: string;
  close(): Promise<void>;
}

class ClickHouseHttpError extends Error {
  constructor(readonly code: number, name: string, message: string) {
    super(`Code: ${code}. DB::Exception: ${message}. (${name})`);
  }
}

export async function startClickHouseHttpInterface(options: ClickHouseHttpInterfaceOptions): Promise<RunningClickHouseHttpInterface> {
  const server: Server = createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => sendError(res, error, options.logger));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(options: ClickHouseHttpInterfaceOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://analytics');
  res.setHeader('X-ClickHouse-Server-Display-Name', SERVER_NAME);
  if ((url.pathname === '/ping' || url.pathname === '/replicas_status') && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
    return;
  }
  if (url.pathname !== '/' && url.pathname !== '/query') {
    throw new ClickHouseHttpError(36, 'BAD_ARGUMENTS', `There is no handler for ${url.pathname}`);
  }
  if (req.method !== 'GET' && req.method !== 'POST') {
    throw new ClickHouseHttpError(36, 'BAD_ARGUMENTS', `Method ${req.method ?? ''} is not allowed`);
  }
  if (!credentialsMatch(presentedCredentials(req, url), options.password)) {
    res.setHeader('WWW-Authenticate', 'Basic realm="ClickHouse", charset="UTF-8"');
    throw new ClickHouseHttpError(516, 'AUTHENTICATION_FAILED', 'Authentication failed: password is incorrect, or there is no user with such name');
  }
  const body = req.method === 'POST' ? await readBody(req) : '';
  const sql = [url.searchParams.get('query') ?? '', body].filter((part) => part.trim() !== '').join('\n');
  if (sql.trim() === '') {
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    throw new ClickHouseHttpError(62, 'SYNTAX_ERROR', 'Empty query');
  }
  if (options.session.queued >= MAX_QUEUED_QUERIES) {
    throw new ClickHouseHttpError(202, 'TOO_MANY_SIMULTANEOUS_QUERIES', `Too many simultaneous queries. Maximum: ${MAX_QUEUED_QUERIES}`);
  }
  const settings: Record<string, string> = {};
  const params: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (name.startsWith('param_')) params[name.slice('param_'.length)] = value;
    else if (!PROTOCOL_PARAMETERS.has(name) && !HTTP_LAYER_SETTINGS.has(name)) settings[name] = value;
  }
  const database = url.searchParams.get('database') ?? header(req, 'x-clickhouse-database') ?? options.defaultDatabase;
  const format = explicitFormat(sql) ?? url.searchParams.get('default_format') ?? header(req, 'x-clickhouse-format') ?? 'TabSeparated';
  const queryId = url.searchParams.get('query_id') ?? randomUUID();
  const result = await options.session.run({ sql, database, format, settings, params });

  const gzip = url.searchParams.get('enable_http_compression') === '1' && /\bgzip\b/.test(header(req, 'accept-encoding') ?? '');
  const payload = gzip ? gzipSync(result.body) : result.body;
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES.find(([pattern]) => pattern.test(format))?.[1] ?? 'application/octet-stream',
    'X-ClickHouse-Query-Id': queryId,
    'X-ClickHouse-Format': format,
    'X-ClickHouse-Timezone': 'UTC',
    'X-ClickHouse-Summary': JSON.stringify({
      read_rows: String(result.rowsRead),
      read_bytes: String(result.bytesRead),
      written_rows: '0',
      written_bytes: '0',
      total_rows_to_read: String(result.rowsRead),
      result_rows: '0',
      result_bytes: String(result.body.length),
      elapsed_ns: String(Math.round(result.elapsedSec * 1e9)),
    }),
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    'Content-Length': String(payload.length),
  });
  res.end(payload);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The FORMAT clause ending the query, if any (the engine honours it; the headers must name it). */
function explicitFormat(sql: string): string | undefined {
  return /\bFORMAT\s+([A-Za-z][A-Za-z0-9]*)\s*;?\s*$/i.exec(sql)?.[1];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_QUERY_BYTES) throw new ClickHouseHttpError(62, 'SYNTAX_ERROR', `Query is too large (more than ${MAX_QUERY_BYTES} bytes)`);
    chunks.push(buffer);
  }
  const raw = Buffer.concat(chunks);
  return (header(req, 'content-encoding') === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

function sendError(res: ServerResponse, error: unknown, logger: Logger): void {
  const message = error instanceof Error ? error.message : String(error);
  const code = Number(/Code: (\d+)\./.exec(message)?.[1] ?? 1002);
  const text = /Code: \d+\./.test(message) ? message : `Code: 1002. DB::Exception: ${message}. (UNKNOWN_EXCEPTION)`;
  if (code === 1002) logger.warn({ err: error }, 'analyst query failed unexpectedly');
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(STATUS_BY_CODE[code] ?? 500, {
    'Content-Type': 'text/plain; charset=UTF-8',
    'X-ClickHouse-Exception-Code': String(code),
  });
  res.end(`${text.trim()}\n`);
}
