import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from '../../domain/shared/errors';
import { httpRequestDuration, metricsRegistry } from '../../infrastructure/metrics/arena-metrics';

/**
 * GET /metrics (Prometheus text format). Open to loopback clients (a Prometheus or agent on the
 * same host); from anywhere else only with `Authorization: Bearer <METRICS_TOKEN>`. A proxy in
 * front of the API must not forward /metrics (deploy/ does not), or every client would be loopback.
 */
export function metricsHandler(options: { token?: string; beforeScrape?: () => Promise<void> }): RequestHandler {
  return async (req, res) => {
    if (!isLoopback(req) && !hasToken(req, options.token)) {
      if (!options.token) throw new ForbiddenError('Metrics are served to loopback clients only (set METRICS_TOKEN to allow others)');
      throw new UnauthorizedError('Metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    await options.beforeScrape?.();
    res.setHeader('Content-Type', metricsRegistry.contentType);
    res.send(await metricsRegistry.metrics());
  };
}

/** Observes every request's duration under its route pattern (`/api/v1/agents/:agentId`), never its raw URL. */
export const httpMetricsMiddleware: RequestHandler = (req, res, next) => {
  const stop = httpRequestDuration.startTimer();
  res.once('finish', () => {
    stop({ method: req.method, route: routePattern(req), status: String(res.statusCode) });
  });
  next();
};

function routePattern(req: Request): string {
  const route: unknown = req.route;
  if (route && typeof route === 'object' && 'path' in route && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  // Unmatched paths (404s, static files, swagger) share one label: raw URLs would explode cardinality.
  return 'unmatched';
}

function isLoopback(req: Request): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function hasToken(req: Request, token: string | undefined): boolean {
  if (!token) return false;
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
