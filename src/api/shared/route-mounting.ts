import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { RequestAuthenticator } from './auth/request-authentication';
import { answerUnsupportedMethods, methodsByPath } from './method-not-allowed';
import { authOutcomeOf, requestIdOf } from './request-context';
import { validatePathParameters, validateRequestPart } from './request-validation';
import type { RateLimiters } from './rate-limits';
import type { AnyRouteDefinition, AuthenticatedUser, RouteResult } from './route';

/**
 * Turns RouteDefinitions into express routes. The order of the chain is the policy:
 * authenticate (record only) -> rate limit (keyed by user or address) -> enforce authentication
 * -> parse JSON -> validate -> handler. Limiting before parsing keeps a flood of large bodies cheap.
 */
export interface RouteMountingDependencies {
  authenticator: RequestAuthenticator;
  rateLimiters: RateLimiters | undefined;
  bodyLimitBytes: number;
}

export function mountRoutes(router: Router, routes: readonly AnyRouteDefinition[], dependencies: RouteMountingDependencies): void {
  const parseJsonBody = express.json({ limit: dependencies.bodyLimitBytes });
  for (const route of routes) {
    const chain: RequestHandler[] = [dependencies.authenticator.middleware(route.auth)];
    chain.push(...(dependencies.rateLimiters?.forRoute(route.rateLimit) ?? []));
    chain.push(enforceAuthentication(route));
    // Only a route that takes a JSON body reads one: elsewhere a stray body is ignored, so it cannot
    // turn a DELETE or a GET into a 400 or 413 that the route never declared.
    if (route.request?.body !== undefined) chain.push(parseJsonBody);
    chain.push(invokeHandler(route));
    router[route.method](route.path, ...chain);
  }
  for (const [path, methods] of methodsByPath(routes)) answerUnsupportedMethods(router, path, methods);
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

function invokeHandler(route: AnyRouteDefinition): RequestHandler {
  return async (req: Request, res: Response) => {
    const params = await validatePathParameters(route.request?.params, req.params, route.responses[404]?.description ?? 'Not found');
    const query = await validateRequestPart(route.request?.query, req.query, 'query');
    const rawBody: unknown = req.body;
    const body = await validateRequestPart(route.request?.body, rawBody, 'body');
    const outcome = authOutcomeOf(req);
    const user: AuthenticatedUser | undefined = outcome.kind === 'authenticated' ? outcome.user : undefined;
    const result = await route.handler({
      body,
      query,
      params,
      user,
      requestId: requestIdOf(req),
      log: req.log,
      req,
      res,
    });
    if (result !== 'handled') sendResult(res, result);
  };
}

function sendResult(res: Response, result: RouteResult): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.status(result.status);
  if (result.body === undefined) res.end();
  else res.json(result.body);
}
