import { ContainerModule } from 'inversify';
import { arenaRoutes } from '../api/arena/arena-routes';
import { arenaWebSocketChannel } from '../api/arena/arena-websocket';
import { arenaLeaderboardProjectionNames, arenaProjections } from '../projections/postgres/arena/arena-projections';
import { startBuildWorker } from '../workers/builds/build-worker';
import { startEloWorker } from '../workers/elo/elo-worker';
import { startMatchWorker } from '../workers/matches/match-worker';
import { startMatchmaker } from '../workers/matches/matchmaker';
import { Contribution, contribute, servicesOf, type BackgroundRole } from './contributions';

const arenaWorkers: BackgroundRole[] = [
  { name: 'builds', start: (services) => startBuildWorker(services) },
  { name: 'matches', start: (services) => startMatchWorker(services) },
  { name: 'elo', start: startEloWorker },
  { name: 'matchmaker', start: startMatchmaker },
];

/** Arena (RL-Arena): agents, submissions and builds, matches, Elo ladders. */
export const arenaModule = new ContainerModule((bind) => {
  contribute(bind, Contribution.Routes).toDynamicValue((context) => arenaRoutes(servicesOf(context)));
  for (const projection of arenaProjections) contribute(bind, Contribution.PostgresProjection).toConstantValue(projection);
  contribute(bind, Contribution.ReplayGroup).toConstantValue({ name: 'leaderboards', projections: arenaLeaderboardProjectionNames });
  for (const role of arenaWorkers) contribute(bind, Contribution.BackgroundRole).toConstantValue(role);
  contribute(bind, Contribution.WebSocketChannel).toConstantValue(arenaWebSocketChannel);
});
