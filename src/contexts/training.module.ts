import { ContainerModule } from 'inversify';
import { underLapxcelConnectionCap, underLapxcelLimits } from '../api/shared/lapxcel-budgets';
import type { AnyRouteDefinition } from '../api/shared/route';
import { trainingProjectionNames, trainingProjections } from '../projections/postgres/training/training-projections';
import { Contribution, contribute, servicesOf } from './contributions';

// Routes, WebSocket channels and workers are loaded when first used: commands that run none of them (replay, migrate) skip their modules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const trainingApi = () => require('../api/training/training-routes') as typeof import('../api/training/training-routes');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const trainingSocket = () => require('../api/training/training-websocket') as typeof import('../api/training/training-websocket');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const trainingWorker = () => require('../workers/training/training-worker') as typeof import('../workers/training/training-worker');

/** Training (LapXcel): RL training jobs, their metrics, runner tokens and the training worker. */
export const trainingModule = new ContainerModule((bind) => {
  contribute(bind, Contribution.Routes).toDynamicValue((context) => underLapxcelLimits(trainingApi().trainingRoutes(servicesOf(context)) as AnyRouteDefinition[]));
  for (const projection of trainingProjections) contribute(bind, Contribution.PostgresProjection).toConstantValue(projection);
  contribute(bind, Contribution.ReplayGroup).toConstantValue({ name: 'training', projections: trainingProjectionNames });
  contribute(bind, Contribution.BackgroundRole).toConstantValue({ name: 'training', start: (services) => trainingWorker().startTrainingWorker(services) });
  contribute(bind, Contribution.WebSocketChannel).toConstantValue((deps) => underLapxcelConnectionCap(trainingSocket().trainingWebSocketChannel(deps)));
});
