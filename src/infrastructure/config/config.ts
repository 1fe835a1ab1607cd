import { resolve } from 'node:path';
import type * as EsdbConnectionString from '@eventstore/db-client/dist/Client/parseConnectionString';
import { z } from 'zod';
import { opsConfigShape } from './ops-config';
import { externalTrainersVariable, runnerEnvironmentsVariable } from './training-config';

/**
 * The whole configuration, from environment variables, validated once at start-up.
 * An unset URL selects the embedded default. The README documents every variable.
 */
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .min(1)
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(':', ''));
      } catch {
        return false;
      }
    }, `must be a URL with scheme ${protocols.join(' or ')}`)
    .optional();

/**
 * EventStoreDB/KurrentDB connection string, checked by the client's own parser: one host or several
 * (`esdb://a:2113,b:2113,c:2113`), `esdb+discover://`, credentials, options. A WHATWG URL check
 * rejects the several-hosts form. The message gives the position only: the string may hold a password.
 */
const esdbConnectionString = z
  .string()
  .trim()
  .min(1)
  .superRefine((value, ctx) => {
    let problem: string | undefined;
    try {
      // Loaded only when ESDB_URL is set: the client's module pulls in gRPC, which no other set-up needs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { parseConnectionString } = require('@eventstore/db-client/dist/Client/parseConnectionString') as typeof EsdbConnectionString;
      const parsed = parseConnectionString(value);
      if (parsed.hosts.length === 0 || parsed.hosts.some((host) => host.address === '')) problem = 'a host name is empty';
    } catch (error) {
      const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
      problem = position === undefined ? 'it does not parse' : `it does not parse at position ${position}`;
    }
    if (problem !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an EventStoreDB connection string, esdb://host[:port][,host[:port]...][?option=value&...] or esdb+discover://host[:port][?...]: ${problem}`,
      });
    }
  })
  .optional();

const positiveInt = z.coerce.number().int().positive();

const brokerList = z
  .string()
  .trim()
  .min(1)
  .transform((value) => value.split(',').map((b) => b.trim()).filter(Boolean))
  .refine((brokers) => brokers.length > 0 && brokers.every((b) => /^[\w.-]+:\d+$/.test(b)), 'must be host:port[,host:port...]')
  .optional();

export const ConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  PUBLIC_BASE_URL: optionalUrl(['http', 'https']),
  DATA_DIR: z.string().trim().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: optionalUrl(['postgres', 'postgresql']),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  ESDB_URL: esdbConnectionString,
  KAFKA_BROKERS: brokerList,
  KAFKA_CLIENT_ID: z.string().trim().min(1).default('lapxcel-arena'),
  // Kafka group timing and consumer healing (docs/bus.md, "Takeover and healing").
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).default(6000),
  KAFKA_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
  // How long a handled offset may wait to be committed with others (docs/bus.md, "Offset commits"); 0 commits each batch at once.
  KAFKA_COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).max(5000).default(500),
  BUS_CONSUMER_RECOVERY_TIMEOUT_SEC: z.coerce.number().positive().default(120),
  /** /readyz fails while a projection's consumer group is more than this many messages behind. */
  READY_MAX_PROJECTION_LAG: z.coerce.number().int().min(0).default(1000),
  /** /readyz fails while the oldest event the relay has not published is older than this (a stuck relay). */
  READY_MAX_RELAY_LAG_SEC: z.coerce.number().min(0).default(30),
  TOPIC_PREFIX: z.string().trim().regex(/^[a-zA-Z0-9._-]*$/, 'letters, digits, . _ - only').default('arena.'),
  CLICKHOUSE_URL: optionalUrl(['http', 'https']),
  CLICKHOUSE_DATABASE: z.string().trim().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be an identifier').default('arena'),

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SEC: positiveInt.default(3600),
  REFRESH_TOKEN_TTL_SEC: positiveInt.default(30 * 24 * 3600),
  /** The RL-Arena `token` (no refresh in that contract): 24 h, as its document promises. */
  ARENA_TOKEN_TTL_SEC: positiveInt.default(24 * 3600),

  BODY_LIMIT_BYTES: positiveInt.default(16 * 1024 * 1024),
  /**
   * JSON bytes of telemetry points one TelemetryBatchRecorded event holds; larger uploads are
   * recorded in parts. Keep it well under the event store's append limit (EventStoreDB: 1 MiB),
   * which also counts the part's envelope and the laps it completes.
   */
  TELEMETRY_EVENT_MAX_BYTES: z.coerce.number().int().min(4096).max(16 * 1024 * 1024).default(512 * 1024),
  /** Long streams (telemetry sessions, training jobs, ladders, agents, match slots) get a snapshot every this many events. */
  SNAPSHOT_EVERY_EVENTS: z.coerce.number().int().min(1).max(1_000_000).default(100),
  RATE_LIMIT_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  RATE_LIMIT_AUTH_PER_MIN: positiveInt.default(5),
  RATE_LIMIT_SUBMISSIONS_PER_MIN: positiveInt.default(5),
  RATE_LIMIT_MATCHES_PER_MIN: positiveInt.default(10),
  RATE_LIMIT_DEFAULT_PER_MIN: positiveInt.default(60),
  RATE_LIMIT_LAPXCEL_USER_PER_HOUR: positiveInt.default(1000),
  RATE_LIMIT_LAPXCEL_ANONYMOUS_PER_HOUR: positiveInt.default(100),
  RATE_LIMIT_RUNNER_PER_HOUR: positiveInt.default(7200),
  WS_MAX_CONNECTIONS_PER_USER: positiveInt.default(10),
  ARENA_SUBMISSIONS_PER_DAY: positiveInt.default(5),
  ARENA_MATCHES_PER_AGENT_PER_DAY: positiveInt.default(50),
  ARENA_MATCH_COOLDOWN_SEC: z.coerce.number().int().min(0).default(60),
  ARENA_MATCHMAKER_INTERVAL_SEC: z.coerce.number().positive().default(60),
  ARENA_MATCHMAKER_MAX_RATING_GAP: positiveInt.default(400),
  ARENA_ELO_K: z.coerce.number().positive().max(400).default(32),
  ARENA_STEP_DEADLINE_MS: positiveInt.default(200),
  ARENA_MATCH_DEADLINE_SEC: positiveInt.default(900),
  ARENA_BUILD_TIMEOUT_SEC: positiveInt.default(600),
  ARENA_PONG_TARGET_SCORE: z.coerce.number().int().min(1).max(1000).default(21),
  TRAINING_EXTERNAL_TRAINERS: externalTrainersVariable.default({}),
  TRAINING_MAX_CONCURRENT_JOBS: positiveInt.default(1),
  TRAINING_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).default(1000),
  TRAINING_SUPERVISOR_INTERVAL_SEC: z.coerce.number().positive().default(15),
  TRAINING_STALE_AFTER_SEC: z.coerce.number().positive().default(60),
  TRAINING_MAX_ATTEMPTS: positiveInt.default(3),
  TRAINING_RUNNER_ENVIRONMENTS: runnerEnvironmentsVariable,
  TRAINING_RUNNER_LEASE_SEC: z.coerce.number().positive().default(60),
  ...opsConfigShape,
});

type RawConfig = z.infer<typeof ConfigSchema>;

export interface Config extends RawConfig {
  /** DATA_DIR made absolute. */
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Builds the configuration; throws ConfigError naming each bad variable. Empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(ConfigSchema.shape);
  const input: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '?'), message: issue.message })),
    );
  }
  return { ...parsed.data, dataDir: resolve(parsed.data.DATA_DIR) };
}
