import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { CommandContext } from '../../commands/command-context';
import type { RequestAuthenticator } from './auth/request-authentication';
import { answerUnsupportedMethods, methodsByPath } from './method-not-allowed';
import { JsonText, type ETagFunction } from './json-text';
import type { Logger } from '../../infrastructure/logging/logger';
import { authOutcomeOf, requestIdOf } from './request-context';
import { requestLogOf } from './request-logging';
import { RouteTable } from './route-table';
import { validatePathParameters, validateRequestPart } from './request-validation';
import type { RateLimiters } from './rate-limits';
import type { AnyRouteDefinition, AuthenticatedUser, RouteResult, WrittenStream } from './route';

/**
 * Turns RouteDefinitions into express routes. The order of the chain is the policy:
 * authenticate (record only) -> rate limit (keyed by user or address) -> enforce authentication
 * -> parse JSON -> validate -> handler. Limiting before parsing keeps a flood of large bodies cheap.
 */
export interface RouteMountingDependencies {
  authenticator: RequestAuthenticator;
  rateLimiters: RateLimiters | undefined;
  bodyLimitBytes: number;
  /** What routes issue commands with; routes of an app created without it cannot (ctx.command throws). */
  commands?: RouteCommandServices;
}

/** The process's command side, as routes use it. */
export interface RouteCommandServices extends Omit<CommandContext, 'metadata'> {
  /** Resolves true once the projection has applied the stream's revision; false when the bounded wait gave up. */
  waitForProjection(projectionName: string, streamId: string, revision: bigint): Promise<boolean>;
}

/**
 * Mounts the routes on `router` and returns them as a RouteTable too: the app looks a request up
 * there first and lets the router walk its layers only for what the table leaves (route-table.ts).
 * `claimedByExpress`: paths the router's own earlier layers answer (before these routes).
 */
export function mountRoutes(
  router: Router,
  routes: readonly AnyRouteDefinition[],
  dependencies: RouteMountingDependencies,
  claimedByExpress: readonly string[] = [],
): RouteTable {
  const table = new RouteTable();
  for (const path of claimedByExpress) table.claimedByExpress(path);
  const parseJsonBody = express.json({ limit: dependencies.bodyLimitBytes });
  for (const route of routes) {
    const chain: RequestHandler[] = [dependencies.authenticator.middleware(route.auth)];
    chain.push(...(dependencies.rateLimiters?.forRoute(route.rateLimit) ?? []));
    chain.push(enforceAuthentication(route));
    // Only a route that takes a JSON body reads one: elsewhere a stray body is ignored, so it cannot
    // turn a DELETE or a GET into a 400 or 413 that the route never declared.
    if (route.request?.body !== undefined) chain.push(parseJsonBody);
    chain.push(invokeHandler(route, dependencies.commands));
    router[route.method](route.path, ...chain);
    table.add(route.method, route.path, chain);
  }
  for (const [path, methods] of methodsByPath(routes)) answerUnsupportedMethods(router, path, methods);
  return table;
}

function enforceAuthentication(route: AnyRouteDefinition): RequestHandler {
  return (req, _res, next) => {
    const outcome = authOutcomeOf(req);
    if (route.auth === 'required' && outcome.kind !== 'authenticated') {
      throw outcome.kind === 'rejected' ? outcome.error : new Error('auth outcome missing on a required route');
    }
    next();
  };
}

function invokeHandler(route: AnyRouteDefinition, commands: RouteCommandServices | undefined): RequestHandler {
  return async (req: Request, res: Response) => {
    const params = await validatePathParameters(route.request?.params, req.params, route.responses[404]?.description ?? 'Not found');
    const query = await validateRequestPart(route.request?.query, req.query, 'query');
    const rawBody: unknown = req.body;
    const body = await validateRequestPart(route.request?.body, rawBody, 'body');
    const outcome = authOutcomeOf(req);
    const user: AuthenticatedUser | undefined = outcome.kind === 'authenticated' ? outcome.user : undefined;
    const requestId = requestIdOf(req);
    const readYourWrites = readYourWritesOf(route, commands);
    const result = await route.handler({
      body,
      query,
      params,
      user,
      requestId,
      get log(): Logger {
        const log = requestLogOf(req);
        if (log === undefined) throw new Error(`route ${route.method.toUpperCase()} ${route.path} asked for its request's logger, but requestLogging did not run`);
        return log;
      },
      req,
      res,
      get command(): CommandContext {
        if (commands === undefined) throw new Error(`route ${route.method.toUpperCase()} ${route.path} issues commands, but the app has no command services`);
        const { store, now, newId, states } = commands;
        return { store, now, newId, states, metadata: { correlationId: requestId, causationId: requestId, ...(user ? { userId: user.id } : {}) } };
      },
      caughtUp: readYourWrites,
    });
    if (result === 'handled') return;
    if (result.written !== undefined) await readYourWrites(result.written);
    sendResult(res, result);
  };
}

/**
 * The route's read-your-writes wait, once per written revision per request: a handler that asked
 * (ctx.caughtUp) and then returns the same `written` does not wait twice.
 */
function readYourWritesOf(route: AnyRouteDefinition, commands: RouteCommandServices | undefined): (written: WrittenStream) => Promise<boolean> {
  const waited = new Map<string, Promise<boolean>>();
  return (written) => {
    if (written.revision === null) return Promise.resolve(true);
    if (route.waitFor === undefined || commands === undefined) {
      throw new Error(`route ${route.method.toUpperCase()} ${route.path} reports a write but declares no read model to wait for (waitFor)`);
    }
    const key = `${written.streamId}@${written.revision}`;
    let wait = waited.get(key);
    if (wait === undefined) {
      wait = commands.waitForProjection(route.waitFor.name, written.streamId, written.revision);
      waited.set(key, wait);
    }
    return wait;
  };
}

function sendResult(res: Response, result: RouteResult): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.status(result.status);
  if (result.body === undefined) res.end();
  else if (result.body instanceof JsonText) sendJsonText(res, result.body);
  else res.json(result.body);
}

/**
 * The answer res.json would send for the value `json` stands for: the same headers in the same
 * order (Content-Type with charset, Content-Length, the app's ETag) and the same bytes, with the
 * ETag computed once per JsonText. A 200 to a request without a validator (If-None-Match,
 * If-Modified-Since) is written straight to the response, as res.send would have written it
 * (it could not be fresh, so neither 304 nor a stripped header applies; node leaves out a HEAD's
 * body); anything else goes through res.send, which answers 304 to a matching If-None-Match.
 */
function sendJsonText(res: Response, json: JsonText): void {
  const etagOf: unknown = res.app.get('etag fn');
  if (res.get('Content-Type') || res.get('ETag')) {
    // Not the plain case: let express decide as res.json would (string body, charset added).
    if (!res.get('Content-Type')) res.set('Content-Type', 'application/json');
    res.send(json.bytes.toString('utf8'));
    return;
  }
  res.set('Content-Type', 'application/json; charset=utf-8');
  res.set('Content-Length', String(json.bytes.length));
  if (typeof etagOf === 'function') {
    const etag = json.etag(etagOf as ETagFunction);
    if (etag) res.set('ETag', etag);
  }
  const { headers } = res.req;
  if (res.statusCode === 200 && headers['if-none-match'] === undefined && headers['if-modified-since'] === undefined && !res.get('Transfer-Encoding')) {
    res.end(json.bytes);
    return;
  }
  res.send(json.bytes);
}
