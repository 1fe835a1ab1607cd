import { z } from 'zod';
import type { ReadinessCheck } from '../api/shared/health';
import { isAnalyticsServedHere } from '../infrastructure/analytics/analytics-not-served';
import { isConsumerLive } from '../infrastructure/bus/consumer-status';
import type { CommandServices } from '../commands/command-states';
import { allClickHouseProjections } from './app-container';
import { clickHouseProjectionGroupId } from '../projections/clickhouse/clickhouse-projection-runner';
import { topicForCategory } from '../infrastructure/bus/event-envelope';
import { allPostgresProjections } from './app-container';
import { projectionGroupId } from '../projections/postgres/projection-runner';
import { RelayCheckpoints } from '../infrastructure/relay/relay-checkpoints';
import { oldestPendingSec } from './ops/event-store-backlog';

/** An in-process bus member renews its membership every second and loses it after 10 s. */
const IN_PROCESS_STALE_AFTER_MS = 10_000;

/** The relay's checkpoint name (EventRelay's default, which `arena start` and the relay role use). */
const RELAY_NAME = 'main';

const existsRow = z.object({ result: z.coerce.number() });

/**
 * What /readyz asks: every engine answers, every bus consumer this process runs is a live member
 * of its group, the relay has published every event older than READY_MAX_RELAY_LAG_SEC (whichever
 * process runs it), no projection is further behind than READY_MAX_PROJECTION_LAG messages, and
 * the analytics tables the endpoints read exist (or analytics are not served by this process).
 */
export function readinessChecks(services: CommandServices): ReadinessCheck[] {
  const { config, bus, analytics } = services;
  const staleAfterMs = config.KAFKA_BROKERS ? config.KAFKA_SESSION_TIMEOUT_MS : IN_PROCESS_STALE_AFTER_MS;
  const projectionGroups = [
    ...allPostgresProjections.map((p) => ({ groupId: projectionGroupId(p), categories: p.categories })),
    ...(isAnalyticsServedHere(analytics) ? allClickHouseProjections.map((p) => ({ groupId: clickHouseProjectionGroupId(p), categories: p.categories })) : []),
  ];
  return [
    { name: 'event_store', check: () => services.store.ping() },
    { name: 'bus', check: () => bus.ping() },
    { name: 'read_model_database', check: async () => void (await services.db.raw('select 1')) },
    {
      name: 'bus_consumers',
      check: async () => {
        const notLive = bus.consumerStatuses().filter((status) => !isConsumerLive(status, staleAfterMs));
        if (notLive.length > 0) {
          throw new Error(`consumers not live: ${notLive.map((s) => `${s.groupId} (${s.state}${s.lastError ? `: ${s.lastError}` : ''})`).join(', ')}`);
        }
      },
    },
    {
      // A relay that stopped publishing leaves the topics' ends where they are, so projection lag
      // alone would look fine while acknowledged writes never reach a read model.
      name: 'relay',
      check: async () => {
        const position = await new RelayCheckpoints(services.db).load(RELAY_NAME, await services.store.identity());
        const waiting = await oldestPendingSec(config, services.db, services.store, position);
        if (waiting !== null && waiting > config.READY_MAX_RELAY_LAG_SEC) {
          throw new Error(`the relay has not published an event appended ${Math.round(waiting)}s ago`);
        }
      },
    },
    {
      name: 'projection_lag',
      check: async () => {
        const lags = await Promise.all(
          projectionGroups.map(async ({ groupId, categories }) => ({
            groupId,
            lag: await bus.groupLag(groupId, categories.map((category) => topicForCategory(config.TOPIC_PREFIX, category))),
          })),
        );
        const behind = lags.filter(({ lag }) => lag > config.READY_MAX_PROJECTION_LAG);
        if (behind.length > 0) {
          throw new Error(`projections behind by more than ${config.READY_MAX_PROJECTION_LAG} messages: ${behind.map((b) => `${b.groupId}=${b.lag}`).join(', ')}`);
        }
      },
    },
    {
      name: 'analytics',
      check: async () => {
        if (!isAnalyticsServedHere(analytics)) return 'not_served_here';
        if (!(await analytics.ping())) throw new Error('analytics store did not answer');
        const tables = allClickHouseProjections.flatMap((projection) => Object.keys(projection.tables));
        for (const table of tables) {
          const [row] = await analytics.query(`EXISTS TABLE {db}.${table}`, {}, existsRow);
          if (row?.result !== 1) throw new Error(`analytics table ${table} does not exist`);
        }
      },
    },
  ];
}
