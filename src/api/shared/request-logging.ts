import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from '../../infrastructure/logging/logger';
import { requestIdOf } from './request-context';

/**
 * One structured log line per request, bound to the request id. Only a safe subset of the request
 * is logged: no headers (Authorization, cookies) and no token-like query values (WebSocket and
 * download links carry `?token=`).
 */

const SECRET_QUERY_PARAMS = /^(token|access_token|refresh_token|jwt|password|api_key|apikey)$/i;

/** Probes hit these every few seconds; their lines would drown the useful ones. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz']);

export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_QUERY_PARAMS.test(name)) params.set(name, '[redacted]');
  }
  return `${url.slice(0, queryStart)}?${params.toString()}`;
}

interface LoggedRequest {
  method: string | undefined;
  url: string;
  remoteAddress: string | undefined;
  userAgent: string | undefined;
}

function describeRequest(req: IncomingMessage): LoggedRequest {
  // Express rewrites req.url inside routers; originalUrl is what the client asked for.
  const url = 'originalUrl' in req && typeof req.originalUrl === 'string' ? req.originalUrl : (req.url ?? '');
  return {
    method: req.method,
    url: redactUrl(url),
    remoteAddress: req.socket.remoteAddress,
    userAgent: req.headers['user-agent'],
  };
}

/** What the completion line of a failed request says. */
function failureMessage(req: IncomingMessage, res: ServerResponse): string {
  return `${req.method ?? ''} request failed with ${res.statusCode}`;
}

/** Per request: the app's logger, and the request id's child once something asked for it. */
const requestLoggers = new WeakMap<IncomingMessage, { base: Logger; bound: Logger | undefined }>();

/**
 * The request's logger, bound to its request id, or undefined when requestLogging did not see the
 * request. Made the first time it is asked for: most requests never log a line of their own, and a
 * pino child logger costs a few microseconds (its bindings pass the redaction).
 */
export function requestLogOf(req: IncomingMessage): Logger | undefined {
  const entry = requestLoggers.get(req);
  if (entry === undefined) return undefined;
  entry.bound ??= entry.base.child({ requestId: requestIdOf(req) });
  return entry.bound;
}

/**
 * One line per request when it completes (finish, close or error), as pino-http wrote it with
 * these options (quiet request logger, `requestId` key): the request id first, then `req`, `res`,
 * `err` on failures, `responseTime` in ms, and the message; `error` level for errors and 5xx,
 * `info` otherwise. The line is the app logger's with `requestId` as its first field: the same
 * bytes as a child logger bound to the id writes, without making one per request.
 * `requestLogOf(req)` is the request id's child logger, for handlers.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const startedAt = Date.now();
    requestLoggers.set(req, { base: logger, bound: undefined });
    const complete = (error?: Error): void => {
      res.off('close', complete);
      res.off('finish', complete);
      res.off('error', complete);
      const level = error !== undefined || res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const responseTime = Date.now() - startedAt;
      const requestId = requestIdOf(req);
      const failure = error ?? res.err ?? (res.statusCode >= 500 ? new Error(`failed with status code ${res.statusCode}`) : undefined);
      if (failure !== undefined) {
        logger[level]({ requestId, req: described, res: { statusCode: res.statusCode }, err: failure, responseTime }, failureMessage(req, res));
      } else {
        logger[level]({ requestId, req: described, res: { statusCode: res.statusCode }, responseTime }, 'request completed');
      }
    };
    // Described when the request arrives, as pino-http did (the socket may be gone at the end).
    const described = describeRequest(req);
    if (!UNLOGGED_PATHS.has((req.url ?? '').split('?')[0] ?? '')) {
      res.on('close', complete);
      res.on('finish', complete);
    }
    res.on('error', complete);
    next();
  };
}

declare module 'http' {
  interface ServerResponse {
    /** The error behind a 5xx answer, for the request's completion line (set by the error handler). */
    err?: Error;
  }
}
