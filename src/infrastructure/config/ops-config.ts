import { z } from 'zod';

/**
 * Operators' and analysts' settings (docs/operations.md, docs/analytics.md), spread into the
 * config schema.
 */
const hostPort = z
  .string()
  .trim()
  .transform((value, ctx) => {
    if (value === 'off') return undefined;
    const match = /^(?:(.+):)?(\d{1,5})$/.exec(value);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port > 65535) {
      ctx.addIssue({ code: 'custom', message: 'must be [host:]port or off' });
      return z.NEVER;
    }
    return { host: (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
  });

export const opsConfigShape = {
  /** Bearer token that opens /metrics to non-loopback scrapers; unset = loopback only. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** ClickHouse HTTP interface for analysts (embedded chDB only); `off` disables it. */
  ANALYTICS_HTTP_PORT: hostPort.default({ host: '127.0.0.1', port: 8124 }),
  /** Password of the `analyst` user; unset = generated into DATA_DIR/analyst-password. */
  ANALYTICS_HTTP_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  ANALYTICS_MAX_EXECUTION_TIME_SEC: z.coerce.number().int().positive().default(30),
  ANALYTICS_MAX_MEMORY_BYTES: z.coerce.number().int().positive().default(1024 * 1024 * 1024),
  ANALYTICS_MAX_RESULT_ROWS: z.coerce.number().int().positive().default(1_000_000),
  /** Topics `arena migrate` creates on Kafka (docs/operations.md, "Kafka topics"). */
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().positive().max(1000).default(6),
  /** -1 = the broker's default.replication.factor. */
  KAFKA_TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(-1).max(16).refine((n) => n !== 0, 'must be -1 or positive').default(-1),
  /** -1 = keep forever. The event store is the source of truth; the bus only carries recent events. */
  KAFKA_TOPIC_RETENTION_MS: z.coerce.number().int().min(-1).default(7 * 24 * 3600 * 1000),
};
