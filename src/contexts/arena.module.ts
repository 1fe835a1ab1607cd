import { ContainerModule } from 'inversify';
import { arenaLeaderboardProjectionNames, arenaProjections } from '../projections/postgres/arena/arena-projections';
import { Contribution, contribute, servicesOf, type BackgroundRole } from './contributions';

// Routes, the WebSocket channel and workers are loaded when first used: commands that run none of them (replay, migrate) skip their modules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const arenaApi = () => require('../api/arena/arena-routes') as typeof import('../api/arena/arena-routes');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const arenaSocket = () => require('../api/arena/arena-websocket') as typeof import('../api/arena/arena-websocket');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const buildWorker = () => require('../workers/builds/build-worker') as typeof import('../workers/builds/build-worker');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const eloWorker = () => require('../workers/elo/elo-worker') as typeof import('../workers/elo/elo-worker');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const matchWorker = () => require('../workers/matches/match-worker') as typeof import('../workers/matches/match-worker');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const matchmaker = () => require('../workers/matches/matchmaker') as typeof import('../workers/matches/matchmaker');

const arenaWorkers: BackgroundRole[] = [
  { name: 'builds', start: (services) => buildWorker().startBuildWorker(services) },
  { name: 'matches', start: (services) => matchWorker().startMatchWorker(services) },
  { name: 'elo', start: (services) => eloWorker().startEloWorker(services) },
  { name: 'matchmaker', start: (services) => matchmaker().startMatchmaker(services) },
];

/** Arena (RL-Arena): agents, submissions and builds, matches, Elo ladders. */
export const arenaModule = new ContainerModule((bind) => {
  contribute(bind, Contribution.Routes).toDynamicValue((context) => arenaApi().arenaRoutes(servicesOf(context)));
  for (const projection of arenaProjections) contribute(bind, Contribution.PostgresProjection).toConstantValue(projection);
  contribute(bind, Contribution.ReplayGroup).toConstantValue({ name: 'leaderboards', projections: arenaLeaderboardProjectionNames });
  for (const role of arenaWorkers) contribute(bind, Contribution.BackgroundRole).toConstantValue(role);
  contribute(bind, Contribution.WebSocketChannel).toConstantValue((deps) => arenaSocket().arenaWebSocketChannel(deps));
});
