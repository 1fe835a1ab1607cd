import { Gauge } from 'prom-client';
import type { CommandServices } from '../../commands/command-states';
import { metricsRegistry } from '../../infrastructure/metrics/arena-metrics';
import { readSystemStatus, type SystemStatus } from './system-status';

const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [metricsRegistry] });

const relayLag = gauge('arena_relay_lag_events', 'Events in the store the relay has not published yet');
const relayLagSeconds = gauge('arena_relay_lag_seconds', 'Age of the oldest event the relay has not published yet');
const relayPosition = gauge('arena_relay_position', 'Relay checkpoint: sequence part of the global position it published last');
const relayCheckpointTime = gauge('arena_relay_checkpoint_timestamp_seconds', 'When the relay last saved its checkpoint (unix time)');
const projectionPosition = gauge('arena_projection_position', 'Messages the projection has applied (committed offsets)', ['projection', 'store']);
const projectionLag = gauge('arena_projection_lag_events', 'Messages published to the projection and not applied yet', ['projection', 'store']);
const projectionLagSeconds = gauge('arena_projection_lag_seconds', 'Age of the oldest message the projection has not applied', ['projection', 'store']);
const projectionQuarantined = gauge('arena_projection_quarantined_events', 'Events the projection set aside (projection_quarantine)', ['projection', 'store']);
const projectionStuck = gauge('arena_projection_stuck', '1 when the projection has had a backlog for longer than the stuck threshold', ['projection', 'store']);
const groupLag = gauge('arena_bus_consumer_group_lag', 'Messages behind, per consumer group', ['group']);
const groupLagSeconds = gauge('arena_bus_consumer_group_lag_seconds', 'Age of the oldest message a consumer group has not handled', ['group']);
const groupPosition = gauge('arena_bus_consumer_group_position', 'Committed offsets summed over the group partitions', ['group']);
const workerQueue = gauge('arena_worker_queue', 'Builds, matches and training jobs by status (read models)', ['kind', 'status']);
const processesAlive = gauge('arena_processes_alive', 'Processes with a fresh heartbeat, by role', ['role']);
const statusUp = gauge('arena_status_up', '1 when the last system status read succeeded');

const CACHE_MS = 5_000;

/** Fills the system-wide gauges from the system status, read at most every 5 s (scrapes are cheap). */
export function statusMetricsRefresher(services: CommandServices): () => Promise<void> {
  let readAt = 0;
  let reading: Promise<void> | undefined;
  return async () => {
    if (Date.now() - readAt < CACHE_MS) return;
    reading ??= readSystemStatus(services)
      .then((status) => {
        setGauges(status);
        statusUp.set(1);
      })
      .catch((error: unknown) => {
        services.logger.warn({ err: error }, 'system status for metrics failed');
        statusUp.set(0);
      })
      .finally(() => {
        readAt = Date.now();
        reading = undefined;
      });
    await reading;
  };
}

function setGauges(status: SystemStatus): void {
  relayLag.set(status.relay.lag);
  relayLagSeconds.set(status.relay.lagSeconds ?? 0);
  const sequence = status.relay.position?.split(':')[1];
  if (sequence !== undefined) relayPosition.set(Number(sequence));
  if (status.relay.updatedAt) relayCheckpointTime.set(Date.parse(status.relay.updatedAt) / 1000);
  for (const p of status.projections) {
    const labels = { projection: p.name, store: p.store };
    projectionPosition.set(labels, p.position ?? 0);
    projectionLag.set(labels, p.lag ?? 0);
    projectionLagSeconds.set(labels, p.lagSeconds ?? 0);
    projectionQuarantined.set(labels, p.quarantined);
    projectionStuck.set(labels, p.stuck ? 1 : 0);
  }
  groupLag.reset();
  groupLagSeconds.reset();
  groupPosition.reset();
  for (const g of status.consumerGroups) {
    groupLag.set({ group: g.group }, g.lag);
    groupLagSeconds.set({ group: g.group }, g.lagSeconds ?? 0);
    groupPosition.set({ group: g.group }, g.position);
  }
  workerQueue.reset();
  for (const [kind, counts] of Object.entries(status.queues)) {
    for (const [state, count] of Object.entries(counts)) workerQueue.set({ kind, status: state }, count);
  }
  processesAlive.reset();
  const roles = new Map<string, number>();
  for (const w of status.workers.filter((w) => w.alive)) for (const role of w.roles) roles.set(role, (roles.get(role) ?? 0) + 1);
  for (const [role, count] of roles) processesAlive.set({ role }, count);
}
