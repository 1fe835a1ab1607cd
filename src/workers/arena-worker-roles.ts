import type { Services } from '../infrastructure/container';
import type { RunningRole } from '../runtime/background-roles';
import { startBuildWorker } from './builds/build-worker';
import { startEloWorker } from './elo/elo-worker';
import { startMatchWorker } from './matches/match-worker';
import { startMatchmaker } from './matches/matchmaker';

/** The arena's background roles (registered in src/runtime/background-roles.ts). */
export const arenaWorkerRoles: Record<string, (services: Services) => Promise<RunningRole>> = {
  builds: (services) => startBuildWorker(services),
  matches: (services) => startMatchWorker(services),
  elo: startEloWorker,
  matchmaker: startMatchmaker,
};
