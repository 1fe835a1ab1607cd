import type { ErrorRequestHandler, RequestHandler } from 'express';
import { NotFoundError } from '../../domain/shared/errors';
import type { Logger } from '../../infrastructure/logging/logger';
import { mapError } from './error-mapping';
import { assignRequestId } from './request-context';
import { requestLogOf } from './request-logging';

/** Any method on any path no route claimed: the contract's 404 body rather than Express's HTML. */
export const unknownRouteHandler: RequestHandler = (req, _res, next) => {
  // req.path, not originalUrl: the query string may carry a token.
  next(new NotFoundError(`No route for ${req.method} ${req.path}`));
};

/** The last middleware: every error, from any layer, leaves through mapError. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const requestId = assignRequestId(req, res);
    if (res.headersSent) {
      // A 'handled' route failed mid-stream: the status is gone, only cutting the connection tells the client.
      (requestLogOf(req) ?? logger).error({ err: error, requestId }, 'error after the response started');
      res.destroy();
      return;
    }
    const mapped = mapError(error, requestId);
    // The request's completion line (request-logging) then carries the real error and its stack,
    // next to the request id, method and url: one line to find from the id in the 500 body.
    if (mapped.status >= 500) res.err = error instanceof Error ? error : new Error(`non-Error thrown: ${String(error)}`);
    if (mapped.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    const allowed = mapped.body.details.allowed;
    if (mapped.status === 405 && Array.isArray(allowed)) res.setHeader('Allow', allowed.join(', '));
    res.status(mapped.status).json(mapped.body);
  };
}
