import { arenaStorage } from '../../infrastructure/artifacts/arena-storage';
import type { CommandServices } from '../../commands/command-states';
import type { AnyRouteDefinition } from '../shared/route';
import { agentRoutes } from './agent-routes';
import { leaderboardRoutes } from './leaderboard-routes';
import { matchRoutes } from './match-routes';
import { submissionRoutes } from './submission-routes';

/** Every RL-Arena route (contributed by src/contexts/arena.module.ts). */
export function arenaRoutes(services: CommandServices): AnyRouteDefinition[] {
  const deps = { ...services, storage: arenaStorage(services.config) };
  return [...agentRoutes(deps), ...submissionRoutes(deps), ...matchRoutes(deps), ...leaderboardRoutes(deps)] as AnyRouteDefinition[];
}
