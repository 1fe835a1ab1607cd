import type { Services } from '../infrastructure/container';
import { arenaRoutes } from './arena/arena-routes';
import { identityRoutes } from './identity/identity-routes';
import { lapxcelRoutes } from './racing/racing-routes';
import { trainingRoutes } from './training/training-routes';
import type { AnyRouteDefinition, RateLimitCategory } from './shared/route';

/** Every route of both contracts. Features add their route lists here. */
export function apiRoutes(services: Services): AnyRouteDefinition[] {
  return [
    ...identityRoutes(services),
    ...underLapxcelLimits([...lapxcelRoutes(services), ...trainingRoutes(services)] as AnyRouteDefinition[]),
    ...arenaRoutes(services),
  ] as AnyRouteDefinition[];
}

/**
 * LapXcel's routes (telemetry, analytics, training) draw from LapXcel's hourly budget instead of
 * RL-Arena's default one; a budget a route names itself (e.g. RL-Arena submissions) applies as well.
 */
function underLapxcelLimits(routes: readonly AnyRouteDefinition[]): AnyRouteDefinition[] {
  return routes.map((route) => {
    // Trainer runners are machines on a budget of their own (per runner token), not LapXcel clients.
    if (route.rateLimit === 'runner') return route;
    const named: readonly RateLimitCategory[] = route.rateLimit === undefined ? [] : typeof route.rateLimit === 'string' ? [route.rateLimit] : route.rateLimit;
    return { ...route, rateLimit: [...named.filter((category) => category !== 'default'), 'lapxcel'] };
  });
}
