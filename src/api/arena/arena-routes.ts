import { arenaStorage } from '../../infrastructure/artifacts/arena-storage';
import type { Services } from '../../infrastructure/container';
import type { AnyRouteDefinition } from '../shared/route';
import { agentRoutes } from './agent-routes';
import { leaderboardRoutes } from './leaderboard-routes';
import { matchRoutes } from './match-routes';
import { submissionRoutes } from './submission-routes';

/** Every RL-Arena route (registered in src/api/routes.ts). */
export function arenaRoutes(services: Services): AnyRouteDefinition[] {
  const deps = { ...services, storage: arenaStorage(services.config) };
  return [...agentRoutes(deps), ...submissionRoutes(deps), ...matchRoutes(deps), ...leaderboardRoutes(deps)] as AnyRouteDefinition[];
}
