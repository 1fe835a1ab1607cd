import 'reflect-metadata';
import { Container } from 'inversify';
import type { ApiServices } from '../api/shared/api-services';
import type { AnyRouteDefinition } from '../api/shared/route';
import type { AnyWebSocketChannel } from '../api/shared/websocket/websocket-channel';
import type { WebSocketDeps } from '../api/shared/websocket/websocket-deps';
import { contextModules } from '../contexts/context-modules';
import { Contribution, Core, contributions, type BackgroundRole } from '../contexts/contributions';
import type { ClickHouseProjection } from '../projections/clickhouse/clickhouse-projection';
import type { PostgresProjection } from '../projections/postgres/postgres-projection';

/**
 * The process's inversify container: the opened services bound once, then every bounded
 * context's module loaded. Without services it still answers what needs none (projections,
 * roles, replay groups), which `arena config check`, `status` and `replay` ask before opening anything.
 */
export function createAppContainer(services?: ApiServices): Container {
  const container = new Container();
  if (services !== undefined) container.bind<ApiServices>(Core.Services).toConstantValue(services);
  container.load(...contextModules);
  return container;
}

/** One container per opened services (the process has one), created when first asked. */
const containers = new WeakMap<ApiServices, Container>();
function containerFor(services: ApiServices): Container {
  let container = containers.get(services);
  if (container === undefined) {
    container = createAppContainer(services);
    containers.set(services, container);
  }
  return container;
}

const catalog = createAppContainer();

/** Every PostgreSQL projection the contexts contribute. */
export const allPostgresProjections: readonly PostgresProjection[] = contributions(catalog, Contribution.PostgresProjection);

/** Every ClickHouse projection the contexts contribute (the `analytics-projections` role runs them). */
export const allClickHouseProjections: readonly ClickHouseProjection[] = contributions(catalog, Contribution.ClickHouseProjection);

/** The contexts' background roles, by name. */
export const contextBackgroundRoles: readonly BackgroundRole[] = contributions(catalog, Contribution.BackgroundRole);

/**
 * What `arena replay <name>` accepts besides a projection's own name and `all`: a group name that
 * stands for several projections (e.g. `leaderboards`, which racing and arena both contribute to).
 */
export const replayGroups: Readonly<Record<string, string[]>> = contributions(catalog, Contribution.ReplayGroup).reduce<Record<string, string[]>>(
  (groups, group) => ({ ...groups, [group.name]: [...(groups[group.name] ?? []), ...group.projections] }),
  {},
);

export function projectionsForReplay(name: string): PostgresProjection[] {
  if (name === 'all') return [...allPostgresProjections];
  const names = replayGroups[name] ?? [name];
  const found = allPostgresProjections.filter((p) => names.includes(p.name));
  if (found.length !== names.length) {
    const known = ['all', ...Object.keys(replayGroups), ...allPostgresProjections.map((p) => p.name)];
    throw new Error(`unknown projection "${name}"; known: ${known.join(', ')}`);
  }
  return found;
}

/** Every route of both contracts, context by context. */
export function apiRoutes(services: ApiServices): AnyRouteDefinition[] {
  return contributions(containerFor(services), Contribution.Routes).flat();
}

/** Every WebSocket endpoint of both contracts. */
export function apiWebSocketChannels(deps: WebSocketDeps & { services: ApiServices }): AnyWebSocketChannel[] {
  return contributions(containerFor(deps.services), Contribution.WebSocketChannel).map((channel) => channel(deps));
}
