import type { CommandServices } from '../../commands/command-states';
import { projectionBatchSize, replayEventsApplied } from '../../infrastructure/metrics/arena-metrics';
import { allClickHouseProjections } from '../app-container';
import { replayClickHouseProjection } from '../../projections/clickhouse/clickhouse-replay';
import { projectionsForReplay } from '../app-container';
import { rebuildProjections, type ReplayProgress } from '../../projections/postgres/projection-rebuild';
import type { QuarantinedEvent } from '../../projections/projection-quarantine';
import { eventStoreSize } from './event-store-backlog';

/** One line of replay progress, as the admin channel streams it and `arena replay` draws it. */
export interface ReplayProgressReport {
  projection: string;
  /** 1-based index of this step among those replayed, and how many there are (one read pass: 1 of 1). */
  step: number;
  steps: number;
  eventsRead: number;
  /** Events in the store when the replay began (more may arrive); null when the store cannot count. */
  eventsTotal: number | null;
  eventsApplied: number;
}

export interface ReplayResultRow {
  projection: string;
  store: 'postgres' | 'clickhouse';
  events_applied: number;
  rows_written?: number;
  /** Events the projection could not apply and set aside (`projection_quarantine`). */
  quarantined: QuarantinedEvent[];
}

const clickHouseByReplayName = new Map(allClickHouseProjections.map((p) => [p.name.replace(/_/g, '-'), p]));

/** The names `arena replay` accepts for ClickHouse projections. */
export const clickHouseReplayNames = [...clickHouseByReplayName.keys()];

/**
 * Rebuilds the named projection(s) from the event store and swaps them in (PostgreSQL: schema swap;
 * ClickHouse: EXCHANGE TABLES), reporting progress after each page. Throws on an unknown name.
 */
export async function runReplay(services: CommandServices, name: string, onProgress: (report: ReplayProgressReport) => void): Promise<ReplayResultRow[]> {
  const eventsTotal = (await eventStoreSize(services.config, services.db)) ?? null;
  const clickHouseProjection = clickHouseByReplayName.get(name);
  const progressOf = (projection: string, step: number, steps: number) => {
    let applied = 0;
    return (progress: ReplayProgress) => {
      projectionBatchSize.observe({ projection, path: 'replay' }, progress.eventsApplied - applied);
      replayEventsApplied.inc({ projection }, progress.eventsApplied - applied);
      applied = progress.eventsApplied;
      onProgress({ projection, step, steps, eventsTotal, ...progress });
    };
  };
  if (clickHouseProjection) {
    const result = await replayClickHouseProjection(services.analytics, services.store, clickHouseProjection, {
      logger: services.logger.child({ replay: clickHouseProjection.name }),
      quarantineDb: services.db,
      onProgress: progressOf(clickHouseProjection.name, 1, 1),
    });
    return [
      { projection: result.projection, store: 'clickhouse', events_applied: result.eventsApplied, rows_written: result.rowsWritten, quarantined: result.quarantined },
    ];
  }
  // Every PostgreSQL projection named is rebuilt from one read of the history.
  const projections = projectionsForReplay(name);
  const label = projections.length === 1 ? projections[0]!.name : `${name} (${projections.length} projections)`;
  const results = await rebuildProjections(services.db, services.store, projections, {
    logger: services.logger.child({ replay: label }),
    onProgress: progressOf(label, 1, 1),
  });
  return results.map((result) => ({ projection: result.projection, store: 'postgres', events_applied: result.eventsApplied, quarantined: result.quarantined }));
}
