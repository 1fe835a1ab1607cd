import type { Consumer } from '../infrastructure/bus/message-bus';
import type { RunningRole } from '../infrastructure/running-role';
import type { CommandServices } from '../commands/command-states';
import { EventRelay } from '../infrastructure/relay/event-relay';
import { RelayCheckpoints } from '../infrastructure/relay/relay-checkpoints';
import { createProjectionQuarantineTable } from '../projections/projection-quarantine';
import { migrateProjections, startProjection } from '../projections/postgres/projection-runner';
import { isAnalyticsServedHere } from '../infrastructure/analytics/analytics-not-served';
import { migrateClickHouseProjection, startClickHouseProjectionConsumers } from '../projections/clickhouse/clickhouse-projection-runner';
import { allClickHouseProjections, allPostgresProjections, contextBackgroundRoles } from './app-container';

const RELAY_NAME = 'main';

export type { RunningRole } from '../infrastructure/running-role';

/**
 * Creates every table the read side needs (idempotent); the event store and bus migrate themselves
 * on open. Refuses to go on when the relay's checkpoint belongs to another event store. The
 * analytics tables too, in a process that serves analytics, so its endpoints (and readiness) find
 * them before the analytics projections first ran.
 */
export async function migrateReadModels(services: CommandServices): Promise<void> {
  const checkpoints = new RelayCheckpoints(services.db);
  await checkpoints.migrate();
  await checkpoints.load(RELAY_NAME, await services.store.identity());
  await migrateProjections(services.db, [...allPostgresProjections]);
  await createProjectionQuarantineTable(services.db);
  if (isAnalyticsServedHere(services.analytics)) {
    for (const projection of allClickHouseProjections) await migrateClickHouseProjection(services.analytics, projection);
  }
}

export function startRelay(services: CommandServices): RunningRole {
  const relay = new EventRelay(services.store, services.bus, new RelayCheckpoints(services.db), services.logger.child({ role: 'relay' }), {
    name: RELAY_NAME,
    topicPrefix: services.config.TOPIC_PREFIX,
  });
  relay.start();
  return { name: 'relay', stop: () => relay.stop() };
}

export async function startProjections(services: CommandServices): Promise<RunningRole> {
  const consumers: Consumer[] = [];
  for (const projection of allPostgresProjections) {
    consumers.push(
      await startProjection(services.db, services.bus, projection, {
        topicPrefix: services.config.TOPIC_PREFIX,
        logger: services.logger.child({ projection: projection.name }),
      }),
    );
  }
  return { name: 'projections', stop: async () => void (await Promise.all(consumers.map((c) => c.stop()))) };
}

/** The `analytics-projections` role: every ClickHouse projection the contexts contribute, live. */
export function startClickHouseProjections(services: CommandServices): Promise<RunningRole> {
  return startClickHouseProjectionConsumers(services, allClickHouseProjections);
}

/**
 * Roles `arena worker <role>` accepts: the read side's own (relay, projections) and every role a
 * bounded context contributes (src/contexts).
 */
export const workerRoles: Record<string, (services: CommandServices) => Promise<RunningRole>> = {
  relay: async (services) => startRelay(services),
  projections: startProjections,
  'analytics-projections': startClickHouseProjections,
  ...Object.fromEntries(contextBackgroundRoles.map((role) => [role.name, (services: CommandServices) => role.start(services)])),
};
