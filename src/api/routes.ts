import type { Services } from '../infrastructure/container';
import { arenaRoutes } from './arena/arena-routes';
import { identityRoutes } from './identity/identity-routes';
import { lapxcelRoutes } from './lapxcel/lapxcel-routes';
import { trainingRoutes } from './lapxcel/training-routes';
import type { AnyRouteDefinition } from './shared/route';

/** Every route of both contracts. Features add their route lists here. */
export function apiRoutes(services: Services): AnyRouteDefinition[] {
  return [...identityRoutes(services), ...lapxcelRoutes(services), ...arenaRoutes(services), ...trainingRoutes(services)] as AnyRouteDefinition[];
}
