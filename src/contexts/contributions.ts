import type { interfaces } from 'inversify';
import type { ApiServices } from '../api/shared/api-services';
import type { AnyRouteDefinition } from '../api/shared/route';
import type { AnyWebSocketChannel } from '../api/shared/websocket/websocket-channel';
import type { WebSocketDeps } from '../api/shared/websocket/websocket-deps';
import type { RunningRole } from '../infrastructure/running-role';
import type { CommandServices } from '../commands/command-states';
import type { ClickHouseProjection } from '../projections/clickhouse/clickhouse-projection';
import type { PostgresProjection } from '../projections/postgres/postgres-projection';

/**
 * What a bounded context contributes to the process (docs/ARCHITECTURE.md, "Bounded contexts").
 * Each context's ContainerModule binds its parts to these service identifiers, once per part; the
 * runtime asks the container for all of them (multi-injection) and never names a context's parts.
 */

/** A service identifier that remembers the type bound to it. */
export type ContributionId<T> = symbol & { readonly contributes?: T };
const contribution = <T>(name: string): ContributionId<T> => Symbol.for(`lapxcel-arena.${name}`) as ContributionId<T>;

/** A context's background role: `arena worker <name>`, and one of the roles `arena start` runs. */
export interface BackgroundRole {
  name: string;
  start(services: CommandServices): Promise<RunningRole>;
}

/** A name `arena replay <name>` accepts for several projections; groups of the same name add up. */
export interface ReplayGroup {
  name: string;
  projections: readonly string[];
}

/** A WebSocket endpoint, built when the API server has its gateway and live-event feed. */
export type WebSocketChannelFactory = (deps: WebSocketDeps) => AnyWebSocketChannel;

export const Contribution = {
  /** A context's HTTP routes. Each is also its OpenAPI registration: defineRoute carries the path's schemas and answers. */
  Routes: contribution<readonly AnyRouteDefinition[]>('Routes'),
  PostgresProjection: contribution<PostgresProjection>('PostgresProjection'),
  ReplayGroup: contribution<ReplayGroup>('ReplayGroup'),
  ClickHouseProjection: contribution<ClickHouseProjection>('ClickHouseProjection'),
  BackgroundRole: contribution<BackgroundRole>('BackgroundRole'),
  WebSocketChannel: contribution<WebSocketChannelFactory>('WebSocketChannel'),
} as const;

/** What the runtime binds before it loads the context modules. */
export const Core = {
  /** The services the process opened; contributions that need them resolve them from here. */
  Services: contribution<ApiServices>('Services'),
} as const;

/** Binds one contribution (typed by its identifier). */
export const contribute = <T>(bind: interfaces.Bind, id: ContributionId<T>): interfaces.BindingToSyntax<T> => bind<T>(id);

/** Every contribution bound to `id`, in the order the modules were loaded; none is an empty list. */
export function contributions<T>(container: interfaces.Container, id: ContributionId<T>): T[] {
  return container.isBound(id) ? container.getAll<T>(id) : [];
}

/** The process's services, for contributions resolved in a container that holds them. */
export const servicesOf = (context: interfaces.Context): ApiServices => context.container.get<ApiServices>(Core.Services);
