/**
 * The whole system in this process, as `arena start` runs it: the engines (an embedded PostgreSQL
 * started here, chDB in DATA_DIR), the relay, the projections, the ClickHouse projections and the
 * API, on a temp data directory. The bus is the in-process PostgreSQL bus, or Kafka when
 * `kafkaBrokers` is given (with topics of their own, TOPIC_PREFIX).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Analytics } from '../../src/infrastructure/analytics/analytics';
import type { MessageBus } from '../../src/infrastructure/bus/message-bus';
import { loadConfig, type Config } from '../../src/infrastructure/config/config';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../src/infrastructure/database/embedded-postgres';
import { createLogger } from '../../src/infrastructure/logging/logger';
import { startIdleHeapRelease } from '../../src/infrastructure/process/idle-heap-release';
import { startClickHouseProjections } from '../../src/runtime/background-roles';
import { startApiServer } from '../../src/runtime/api-server';
import { migrateReadModels, startProjections, startRelay, type RunningRole } from '../../src/runtime/background-roles';
import { openServices } from '../../src/runtime/open-services';
import type { Services } from '../../src/infrastructure/services';

export const BENCH_JWT_SECRET = 'bench-secret-that-is-long-enough-0123456789';
export const BENCH_DATABASE = 'arena';

export interface BenchApp {
  readonly url: string;
  readonly config: Config;
  /** The environment `arena` (dist/src/cli.js) needs to work on the same data. */
  readonly env: Record<string, string>;
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** The opened services of the app (for profiling scripts: its knex pool, its store). */
  readonly services: Services;
  /** The app's analytics store (for the bench's own measurements: chDB's metrics). */
  readonly analytics: Analytics;
  /** The app's bus (for the bench's own measurements: consumer lag). */
  readonly bus: MessageBus;
  /** Stops the app but keeps the engines and files (for CLI runs on the same data). */
  stopApp(): Promise<void>;
  /** Stops everything and deletes the files. */
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startBenchApp(options: { kafkaBrokers?: string }): Promise<BenchApp> {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-'));
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const pg: EmbeddedPostgresServer = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: await freePort(), persistent: false });
  await pg.ensureDatabase(BENCH_DATABASE);
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    DATABASE_URL: pg.urlFor(BENCH_DATABASE),
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
    JWT_SECRET: BENCH_JWT_SECRET,
    RATE_LIMIT_ENABLED: 'false',
    ...(options.kafkaBrokers ? { KAFKA_BROKERS: options.kafkaBrokers, TOPIC_PREFIX: `bench-${randomUUID().slice(0, 8)}.` } : {}),
  };
  const config = loadConfig(env);
  const opened = await openServices(config, logger);
  const { services } = opened;
  const roles: RunningRole[] = [];
  let appStopped = false;
  const stopApp = async (): Promise<void> => {
    if (appStopped) return;
    appStopped = true;
    for (const role of roles.reverse()) await role.stop();
    await opened.close();
  };
  try {
    await migrateReadModels(services);
    roles.push(startRelay(services), await startProjections(services), await startClickHouseProjections(services));
    const api = await startApiServer(services, { host: '127.0.0.1', port: 0 });
    roles.push(api, startIdleHeapRelease(logger));
    return {
      url: api.url,
      config,
      env,
      databaseUrl: pg.urlFor(BENCH_DATABASE),
      dataDir: config.dataDir,
      services,
      analytics: services.analytics,
      bus: services.bus,
      stopApp,
      close: async () => {
        await stopApp();
        await pg.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopApp();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
