import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics: one registry per process, as Prometheus scrapes processes.
 * Instruments write here (HTTP middleware, event-store and bus decorators, the WebSocket gateway);
 * gauges that describe the whole system (projection lag, relay position, queues) are filled at
 * scrape time from the system status (src/runtime/ops/status-metrics.ts).
 */
export const metricsRegistry = new Registry();

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const WORK_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

export const httpRequestDuration = new Histogram({
  name: 'arena_http_request_duration_seconds',
  help: 'HTTP request duration by method, route pattern and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: DURATION_BUCKETS,
  registers: [metricsRegistry],
});

export const eventStoreAppendDuration = new Histogram({
  name: 'arena_eventstore_append_duration_seconds',
  help: 'Event-store append duration by stream category and outcome (ok, conflict, error)',
  labelNames: ['category', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
  registers: [metricsRegistry],
});

export const eventStoreAppendConflicts = new Counter({
  name: 'arena_eventstore_append_conflicts_total',
  help: 'Appends refused because the stream was not at the expected revision',
  labelNames: ['category'] as const,
  registers: [metricsRegistry],
});

export const eventStoreEventsAppended = new Counter({
  name: 'arena_eventstore_events_appended_total',
  help: 'Events appended by this process, by stream category',
  labelNames: ['category'] as const,
  registers: [metricsRegistry],
});

export const busHandlerDuration = new Histogram({
  name: 'arena_bus_handler_duration_seconds',
  help: 'Time a consumer group handler took per message, by group and outcome (ok, error)',
  labelNames: ['group', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
  registers: [metricsRegistry],
});

export const projectionBatchSize = new Histogram({
  name: 'arena_projection_batch_size',
  help: 'Events applied per read-model transaction (live path: 1; replay: one page)',
  labelNames: ['projection', 'path'] as const,
  buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500],
  registers: [metricsRegistry],
});

export const workerJobDuration = new Histogram({
  name: 'arena_worker_job_duration_seconds',
  help: 'Builds, matches and training runs, from start to end as this process appended them, by kind and outcome',
  labelNames: ['kind', 'outcome'] as const,
  buckets: WORK_BUCKETS,
  registers: [metricsRegistry],
});

export const websocketConnections = new Gauge({
  name: 'arena_websocket_connections',
  help: 'Open WebSocket connections on this process',
  registers: [metricsRegistry],
});

export const replayEventsApplied = new Counter({
  name: 'arena_replay_events_applied_total',
  help: 'Events applied by replays run through this process',
  labelNames: ['projection'] as const,
  registers: [metricsRegistry],
});

let processMetricsOn = false;
/** Node's process metrics (CPU, memory, event loop lag, GC, handles), once per process. */
export function enableProcessMetrics(): void {
  if (processMetricsOn) return;
  processMetricsOn = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'arena_' });
}
