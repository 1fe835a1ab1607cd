import { ContainerModule } from 'inversify';
import { underLapxcelConnectionCap, underLapxcelLimits } from '../api/shared/lapxcel-budgets';
import type { AnyRouteDefinition } from '../api/shared/route';
import { trainingRoutes } from '../api/training/training-routes';
import { trainingWebSocketChannel } from '../api/training/training-websocket';
import { trainingProjectionNames, trainingProjections } from '../projections/postgres/training/training-projections';
import { startTrainingWorker } from '../workers/training/training-worker';
import { Contribution, contribute, servicesOf } from './contributions';

/** Training (LapXcel): RL training jobs, their metrics, runner tokens and the training worker. */
export const trainingModule = new ContainerModule((bind) => {
  contribute(bind, Contribution.Routes).toDynamicValue((context) => underLapxcelLimits(trainingRoutes(servicesOf(context)) as AnyRouteDefinition[]));
  for (const projection of trainingProjections) contribute(bind, Contribution.PostgresProjection).toConstantValue(projection);
  contribute(bind, Contribution.ReplayGroup).toConstantValue({ name: 'training', projections: trainingProjectionNames });
  contribute(bind, Contribution.BackgroundRole).toConstantValue({ name: 'training', start: (services) => startTrainingWorker(services) });
  contribute(bind, Contribution.WebSocketChannel).toConstantValue((deps) => underLapxcelConnectionCap(trainingWebSocketChannel(deps)));
});
