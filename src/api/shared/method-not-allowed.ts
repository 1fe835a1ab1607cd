import type { Router } from 'express';
import { MethodNotAllowedError } from '../../domain/shared/errors';

/**
 * A known path asked with a method none of its routes serves (TRACE, DELETE on a read-only
 * resource, ...): 405 with `Allow` and the error body, not the unknown-route 404. OPTIONS answers
 * 204 with the same `Allow`. Register after the path's real routes, so they match first.
 */
export function answerUnsupportedMethods(router: Router, path: string, methods: readonly string[]): void {
  const upper = new Set(methods.map((method) => method.toUpperCase()));
  if (upper.has('GET')) upper.add('HEAD');
  upper.add('OPTIONS');
  const allow = [...upper].sort().join(', ');
  router.all(path, (req, res) => {
    if (req.method === 'OPTIONS') {
      res.setHeader('Allow', allow);
      res.status(204).end();
      return;
    }
    throw new MethodNotAllowedError(`Method ${req.method} is not allowed on ${req.baseUrl}${req.path}; allowed: ${allow}`, { allowed: allow.split(', ') });
  });
}

/** Groups route methods by path, in first-registration order. */
export function methodsByPath(routes: readonly { method: string; path: string }[]): Map<string, string[]> {
  const byPath = new Map<string, string[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route.method]);
  return byPath;
}
