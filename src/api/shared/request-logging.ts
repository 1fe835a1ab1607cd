import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
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

export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp<IncomingMessage, ServerResponse>({
    logger,
    genReqId: (req) => requestIdOf(req),
    // req.log then carries only the request id; the completion line adds the request summary.
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    // Without wrapping, the serializers get the raw objects and nothing else leaks through.
    wrapSerializers: false,
    serializers: {
      req: describeRequest,
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    autoLogging: { ignore: (req) => UNLOGGED_PATHS.has((req.url ?? '').split('?')[0] ?? '') },
    customLogLevel: (_req, res, error) => (error !== undefined || res.statusCode >= 500 ? 'error' : 'info'),
    customErrorMessage: (req, res) => `${req.method ?? ''} request failed with ${res.statusCode}`,
  });
}
