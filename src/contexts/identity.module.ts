import { ContainerModule } from 'inversify';
import type { AnyRouteDefinition } from '../api/shared/route';
import { usersProjection } from '../projections/postgres/identity/users-projection';
import { Contribution, contribute, servicesOf } from './contributions';

// Routes are loaded when first resolved: commands that serve no HTTP (replay, migrate, workers) skip the API's modules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const identityApi = () => require('../api/identity/identity-routes') as typeof import('../api/identity/identity-routes');

/** Identity: users, sign-in sessions and tokens shared by both contracts. */
export const identityModule = new ContainerModule((bind) => {
  contribute(bind, Contribution.Routes).toDynamicValue((context) => identityApi().identityRoutes(servicesOf(context)) as AnyRouteDefinition[]);
  contribute(bind, Contribution.PostgresProjection).toConstantValue(usersProjection);
});
