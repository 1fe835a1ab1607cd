import { z } from 'zod';
import type { CommandServices } from '../../commands/command-states';
import { InstrumentedMessageBus, type GroupActivity } from '../../infrastructure/metrics/instrumented-bus';
import { RelayCheckpoints } from '../../infrastructure/relay/relay-checkpoints';
import { allClickHouseProjections } from '../app-container';
import { clickHouseProjectionGroupId } from '../../projections/clickhouse/clickhouse-projection-runner';
import { allPostgresProjections } from '../app-container';
import { projectionGroupId } from '../../projections/postgres/projection-runner';
import { inProcessGroupLag, kafkaGroupLag, type ConsumerGroupLag } from './consumer-group-lag';
import { describePosition, eventStoreBacklog } from './event-store-backlog';
import { readHeartbeats } from './process-heartbeats';

/** A backlog older than this is "stuck": `arena status` exits non-zero. */
export const STUCK_AFTER_SEC = 60;

export interface ProjectionStatus {
  name: string;
  store: 'postgres' | 'clickhouse';
  group: string;
  /** Messages the projection's consumer group has committed; null before it ever ran. */
  position: number | null;
  lag: number | null;
  lagSeconds: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  quarantined: number;
  stuck: boolean;
}

export interface GroupStatus extends ConsumerGroupLag {
  lagSeconds: number | null;
  stuck: boolean;
}

export interface SystemStatus {
  at: string;
  ok: boolean;
  problems: string[];
  relay: { position: string | null; lag: number; lagCapped: boolean; lagSeconds: number | null; updatedAt: string | null; stuck: boolean };
  projections: ProjectionStatus[];
  consumerGroups: GroupStatus[];
  workers: { id: string; roles: string[]; host: string; pid: number; startedAt: string; seenAt: string; alive: boolean }[];
  queues: Record<'builds' | 'matches' | 'training', Record<string, number>>;
}

const relayRow = z.object({ position: z.string(), updated_at: z.date() }).optional();
const countRow = z.object({ key: z.string(), count: z.coerce.number() });

/** Reads the whole system's state from the engines (and this process's own consumers). */
export async function readSystemStatus(services: CommandServices, options: { stuckAfterSec?: number } = {}): Promise<SystemStatus> {
  const stuckAfter = options.stuckAfterSec ?? STUCK_AFTER_SEC;
  const { config, db } = services;
  const now = Date.now();
  const problems: string[] = [];

  await new RelayCheckpoints(db).migrate();
  const relayCheckpoint = relayRow.parse(await db('relay_checkpoints').where({ name: 'main' }).first());
  const relayPosition = await new RelayCheckpoints(db).load('main', await services.store.identity());
  const backlog = await eventStoreBacklog(config, db, services.store, relayPosition);
  const relayStuck = backlog.events > 0 && (backlog.oldestPendingSec ?? 0) > stuckAfter;
  if (relayStuck) problems.push(`relay: ${backlog.events} events waiting for ${Math.round(backlog.oldestPendingSec ?? 0)}s`);

  const heartbeats = await readHeartbeats(db);
  const activity = new Map<string, GroupActivity[]>();
  const addActivity = (a: GroupActivity) => activity.set(a.group, [...(activity.get(a.group) ?? []), a]);
  for (const beat of heartbeats.filter((b) => b.alive)) beat.groups.forEach(addActivity);
  if (services.bus instanceof InstrumentedMessageBus) services.bus.groupActivity().forEach(addActivity);

  const namespace = config.TOPIC_PREFIX;
  const lags = config.KAFKA_BROKERS
    ? await kafkaGroupLag(config.KAFKA_BROKERS, namespace, config.KAFKA_CLIENT_ID)
    : await inProcessGroupLag(db, namespace);

  const latest = (values: (string | null)[]): string | null => values.filter((v): v is string => v !== null).sort().at(-1) ?? null;
  const groups: GroupStatus[] = lags.map((lag) => {
    const seen = activity.get(lag.group) ?? [];
    const lastProgress = latest(seen.map((a) => a.lastHandledAt));
    let lagSeconds: number | null = 0;
    if (lag.lag > 0) {
      lagSeconds = lag.oldestPendingSec ?? (lastProgress ? (now - Date.parse(lastProgress)) / 1000 : null);
    }
    const stuck = lag.lag > 0 && (lagSeconds === null || lagSeconds > stuckAfter);
    if (stuck) problems.push(`consumer group ${lag.group}: ${lag.lag} messages behind${lagSeconds === null ? ', no consumer reporting progress' : ` for ${Math.round(lagSeconds)}s`}`);
    return { ...lag, lagSeconds, stuck };
  });

  const quarantined = await quarantineCounts(services);
  const projectionRows: ProjectionStatus[] = [
    ...allPostgresProjections.map((p) => ({ name: p.name, store: 'postgres' as const, group: projectionGroupId(p) })),
    ...allClickHouseProjections.map((p) => ({ name: p.name, store: 'clickhouse' as const, group: clickHouseProjectionGroupId(p) })),
  ].map((p) => {
    const group = groups.find((g) => g.group === p.group);
    const seen = activity.get(p.group) ?? [];
    const lastErrorAt = latest(seen.map((a) => a.lastErrorAt));
    return {
      ...p,
      position: group?.position ?? null,
      lag: group?.lag ?? null,
      lagSeconds: group?.lagSeconds ?? null,
      lastError: seen.find((a) => a.lastErrorAt === lastErrorAt)?.lastError ?? null,
      lastErrorAt,
      quarantined: quarantined.get(p.name) ?? 0,
      stuck: group?.stuck ?? false,
    };
  });

  return {
    at: new Date(now).toISOString(),
    ok: problems.length === 0,
    problems,
    relay: {
      position: describePosition(relayPosition),
      lag: backlog.events,
      lagCapped: backlog.capped,
      lagSeconds: backlog.events > 0 ? backlog.oldestPendingSec : 0,
      updatedAt: relayCheckpoint?.updated_at.toISOString() ?? null,
      stuck: relayStuck,
    },
    projections: projectionRows,
    consumerGroups: groups,
    workers: heartbeats.map(({ groups: _groups, ...process }) => process),
    queues: {
      builds: await countByStatus(services, 'arena_submissions'),
      matches: await countByStatus(services, 'arena_matches'),
      training: await countByStatus(services, 'training_jobs'),
    },
  };
}

async function countByStatus(services: CommandServices, table: string): Promise<Record<string, number>> {
  if (!(await services.db.schema.hasTable(table))) return {};
  const result = await services.db.raw(`SELECT status AS key, count(*) AS count FROM ?? GROUP BY status ORDER BY status`, [table]);
  return Object.fromEntries(z.array(countRow).parse(result.rows).map((r) => [r.key, r.count]));
}

/** Events a projection set aside (the `projection_quarantine` table, when the deployment has it). */
async function quarantineCounts(services: CommandServices): Promise<Map<string, number>> {
  if (!(await services.db.schema.hasTable('projection_quarantine'))) return new Map();
  try {
    const result = await services.db.raw('SELECT projection AS key, count(*) AS count FROM projection_quarantine GROUP BY projection');
    return new Map(z.array(countRow).parse(result.rows).map((r) => [r.key, r.count]));
  } catch (error) {
    services.logger.warn({ err: error }, 'projection_quarantine could not be counted');
    return new Map();
  }
}
