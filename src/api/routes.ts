import type { Services } from '../infrastructure/container';
import { identityRoutes } from './identity/identity-routes';
import type { AnyRouteDefinition } from './shared/route';

/** Every route of both contracts. Features add their route lists here. */
export function apiRoutes(services: Services): AnyRouteDefinition[] {
  return [...identityRoutes(services)] as AnyRouteDefinition[];
}
