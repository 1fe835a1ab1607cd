import express from 'express';
import swaggerUi from 'swagger-ui-express';
import type { Config } from '../infrastructure/config/config';
import type { Logger } from '../infrastructure/logging/logger';
import { createRequestAuthenticator } from './shared/auth/request-authentication';
import type { SessionCheck } from './shared/auth/session-guard';
import type { TokenService } from './shared/auth/token-service';
import { errorHandler, unknownRouteHandler } from './shared/error-handler';
import { httpMetricsMiddleware, metricsHandler } from './shared/metrics-endpoint';
import { DEFAULT_READINESS_TIMEOUT_MS, livenessHandler, readinessHandler, type ReadinessCheck } from './shared/health';
import { API_BASE_PATH, buildOpenApiDocument } from './shared/openapi/openapi-document';
import { createRateLimiters } from './shared/rate-limits';
import { answerUnsupportedMethods } from './shared/method-not-allowed';
import { assignRequestId } from './shared/request-context';
import { requestLogging } from './shared/request-logging';
import type { AnyRouteDefinition } from './shared/route';
import { mountRoutes, type RouteCommandServices } from './shared/route-mounting';

export interface HttpAppOptions {
  config: Config;
  logger: Logger;
  /** Every feature's routes; mounted under /api/v1 and documented in /api/v1/openapi.json. */
  routes: readonly AnyRouteDefinition[];
  /** /readyz answers 200 only when every check resolves within `readinessTimeoutMs`. */
  readiness: readonly ReadinessCheck[];
  tokens: TokenService;
  /** Asked on every signed-in request after the token verified: user exists, session active. */
  sessions: SessionCheck;
  /** Plain file trees (replays, ...) served as-is, e.g. { urlPath: '/storage/replays', dir }. */
  staticMounts?: readonly { urlPath: string; dir: string }[];
  /** Defaults to 2000 ms. */
  readinessTimeoutMs?: number;
  /** What routes issue commands with (store, clock, ids, read-your-writes); absent in apps whose routes issue none. */
  commands?: RouteCommandServices;
  /** Refreshes scrape-time gauges (projection lag, queues) before /metrics answers. */
  beforeMetricsScrape?: () => Promise<void>;
}

/**
 * The HTTP application: conventions shared by every route of both contracts. Listening, TLS and
 * WebSocket upgrades belong to the caller.
 */
export function createHttpApp(options: HttpAppOptions): express.Express {
  const { config, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  // Off unless a deployment knows its proxy chain: with it on, any client could pick its own
  // rate-limit key by sending X-Forwarded-For.
  app.set('trust proxy', false);

  app.use((req, res, next) => {
    assignRequestId(req, res);
    next();
  });
  app.use(requestLogging(logger));
  app.use(httpMetricsMiddleware);

  const rateLimiters = createRateLimiters(config, logger);
  const openApiDocument = buildOpenApiDocument(options.routes, {
    title: 'LapXcel + RL-Arena API',
    version: '1.0.0',
    description: 'Sim-racing telemetry and analytics (LapXcel) and agent competitions (RL-Arena) behind one identity.',
    rateLimited: rateLimiters !== undefined,
  });

  const api = express.Router();
  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  answerUnsupportedMethods(api, '/openapi.json', ['get']);
  const routeTable = mountRoutes(
    api,
    options.routes,
    {
      authenticator: createRequestAuthenticator(options.tokens, options.sessions),
      rateLimiters,
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      commands: options.commands,
    },
    ['/openapi.json'],
  );
  // A route found by method and path skips express's walk over the layers below and the API
  // router's (route-table.ts). It takes only API_BASE_PATH paths, which no layer between here and
  // the API router answers.
  app.use(routeTable.middleware(API_BASE_PATH));

  app.get('/metrics', metricsHandler({ token: config.METRICS_TOKEN, beforeScrape: options.beforeMetricsScrape }));

  app.get('/healthz', livenessHandler);
  app.get('/readyz', readinessHandler(options.readiness, options.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS, logger));
  answerUnsupportedMethods(app, '/healthz', ['get']);
  answerUnsupportedMethods(app, '/readyz', ['get']);

  app.use(API_BASE_PATH, api);

  app.use('/swagger', swaggerUi.serve, swaggerUi.setup({ ...openApiDocument }, { customSiteTitle: 'LapXcel + RL-Arena API' }));

  for (const mount of options.staticMounts ?? []) {
    // index: false and dotfiles ignored: a storage tree is not a website to browse.
    app.use(mount.urlPath, express.static(mount.dir, { index: false, dotfiles: 'ignore', fallthrough: true }));
  }

  app.use(unknownRouteHandler);
  app.use(errorHandler(logger));
  return app;
}
