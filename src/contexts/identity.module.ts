import { ContainerModule } from 'inversify';
import { identityRoutes } from '../api/identity/identity-routes';
import type { AnyRouteDefinition } from '../api/shared/route';
import { usersProjection } from '../projections/postgres/identity/users-projection';
import { Contribution, contribute, servicesOf } from './contributions';

/** Identity: users, sign-in sessions and tokens shared by both contracts. */
export const identityModule = new ContainerModule((bind) => {
  contribute(bind, Contribution.Routes).toDynamicValue((context) => identityRoutes(servicesOf(context)) as AnyRouteDefinition[]);
  contribute(bind, Contribution.PostgresProjection).toConstantValue(usersProjection);
});
