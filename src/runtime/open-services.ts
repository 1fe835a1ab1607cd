import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SessionGuard } from '../api/shared/auth/session-guard';
import { TokenService } from '../api/shared/auth/token-service';
import { createCommandStates } from '../commands/command-states';
import type { Analytics } from '../infrastructure/analytics/analytics';
import { AnalyticsNotServedHere } from '../infrastructure/analytics/analytics-not-served';
import { InProcessMessageBus } from '../infrastructure/bus/in-process-bus';
import type { MessageBus } from '../infrastructure/bus/message-bus';
import type { Config } from '../infrastructure/config/config';
import type { ApiServices } from '../api/shared/api-services';
import { acquireDataDirLock } from '../infrastructure/database/data-dir-lock';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../infrastructure/database/embedded-postgres';
import { createKnex } from '../infrastructure/database/knex';
import type { EventStore } from '../infrastructure/eventstore/event-store';
import { PostgresEventStore } from '../infrastructure/eventstore/postgres-event-store';
import { migrateEventStoreSchema } from '../infrastructure/eventstore/postgres-event-store-schema';
import { InstrumentedMessageBus } from '../infrastructure/metrics/instrumented-bus';
import { InstrumentedEventStore } from '../infrastructure/metrics/instrumented-event-store';
import { resolveJwtSecret } from '../infrastructure/security/jwt-secret';
import { ScryptPasswordHasher } from '../infrastructure/security/password-hasher';
import { PostgresSnapshotStore } from '../infrastructure/snapshots/postgres-snapshot-store';

export interface OpenedServices {
  services: ApiServices;
  /** Closes everything opened, in reverse order. */
  close(): Promise<void>;
}

/** The database the app uses on its embedded PostgreSQL. */
export const EMBEDDED_DATABASE = 'arena';

export interface OpenServicesOptions {
  /** Open the analytics engine (false: analytics answer 503 "not served here"). Default true. */
  analytics?: boolean;
  /** A part of the process failed for good (a bus consumer that cannot recover): exit non-zero. */
  onFatal?: (error: Error) => void;
  /** The command line that opens the services, named when DATA_DIR is owned by another process. */
  command?: string;
}

/**
 * Opens every adapter the configuration selects: servers by URL, embedded defaults otherwise
 * (embedded PostgreSQL, the PostgreSQL event store, the in-process bus, chDB).
 */
export async function openServices(config: Config, logger: Logger, options: OpenServicesOptions = {}): Promise<OpenedServices> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) {
      try {
        await closer();
      } catch (error) {
        logger.warn({ err: error }, 'error while closing');
      }
    }
  };
  try {
    mkdirSync(config.dataDir, { recursive: true });
    // The embedded engines keep their files in DATA_DIR: one process owns it (docs/ARCHITECTURE.md, "One owner per DATA_DIR").
    // A second `start`, `replay` or `migrate` on it stops here, before touching anything.
    const embedded = !config.DATABASE_URL || !config.CLICKHOUSE_URL;
    const dataDirLock = embedded ? acquireDataDirLock(config.dataDir, options.command ?? 'start') : null;
    if (dataDirLock) closers.push(async () => dataDirLock.release());
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const pg: EmbeddedPostgresServer = await startEmbeddedPostgres({
        dataDir: join(config.dataDir, 'postgres'),
        port: config.EMBEDDED_POSTGRES_PORT,
        persistent: true,
        ownedDataDir: dataDirLock,
      });
      closers.push(() => pg.stop());
      await pg.ensureDatabase(EMBEDDED_DATABASE);
      databaseUrl = pg.urlFor(EMBEDDED_DATABASE);
      logger.info({ port: config.EMBEDDED_POSTGRES_PORT, dataDir: join(config.dataDir, 'postgres') }, 'embedded PostgreSQL started');
    }
    const db = createKnex(databaseUrl);
    closers.push(() => db.destroy());

    let store: EventStore;
    if (config.ESDB_URL) {
      // The adapters of servers are loaded only when configured (the ESDB client pulls in gRPC, Kafka kafkajs, analytics the ClickHouse client).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { EventStoreDbEventStore } = require('../infrastructure/eventstore/esdb-event-store') as typeof import('../infrastructure/eventstore/esdb-event-store');
      const esdb = new EventStoreDbEventStore(config.ESDB_URL, logger.child({ component: 'eventstore' }));
      closers.push(() => esdb.close());
      // Refuses servers before 22.6 and users that may not read $all, with a message saying so.
      await esdb.verifyServer();
      closers.pop();
      store = esdb;
    } else {
      await migrateEventStoreSchema(db);
      store = new PostgresEventStore(db, logger.child({ component: 'eventstore' }));
    }
    closers.push(() => store.close());
    store = new InstrumentedEventStore(store);

    let bus: MessageBus;
    if (config.KAFKA_BROKERS) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { KafkaMessageBus } = require('../infrastructure/bus/kafka-bus') as typeof import('../infrastructure/bus/kafka-bus');
      bus = new KafkaMessageBus({
        brokers: config.KAFKA_BROKERS,
        clientId: config.KAFKA_CLIENT_ID,
        groupNamespace: config.TOPIC_PREFIX,
        logger: logger.child({ component: 'bus' }),
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
        commitIntervalMs: config.KAFKA_COMMIT_INTERVAL_MS,
        consumerRecoveryTimeoutMs: config.BUS_CONSUMER_RECOVERY_TIMEOUT_SEC * 1000,
        onConsumerFailed: (error) => options.onFatal?.(error),
      });
    } else {
      const inProcess = new InProcessMessageBus(db, logger.child({ component: 'bus' }), { groupNamespace: config.TOPIC_PREFIX });
      await inProcess.migrate();
      bus = inProcess;
    }
    closers.push(() => bus.close());
    bus = new InstrumentedMessageBus(bus);

    const analytics: Analytics =
      (options.analytics ?? true)
        ? // eslint-disable-next-line @typescript-eslint/no-require-imports
          await (require('../infrastructure/analytics/clickhouse-analytics') as typeof import('../infrastructure/analytics/clickhouse-analytics')).createAnalytics({
            url: config.CLICKHOUSE_URL,
            database: config.CLICKHOUSE_DATABASE,
            dataDir: config.dataDir,
            logger: logger.child({ component: 'analytics' }),
          })
        : new AnalyticsNotServedHere(config.CLICKHOUSE_DATABASE);
    closers.push(() => analytics.close());

    const tokens = new TokenService({
      secret: resolveJwtSecret({ configured: config.JWT_SECRET, dataDir: config.dataDir, production: config.NODE_ENV === 'production' }),
      accessTokenTtlSec: config.ACCESS_TOKEN_TTL_SEC,
      refreshTokenTtlSec: config.REFRESH_TOKEN_TTL_SEC,
      arenaTokenTtlSec: config.ARENA_TOKEN_TTL_SEC,
    });
    const snapshots = new PostgresSnapshotStore(db);
    await snapshots.migrate();
    const commandStates = createCommandStates(store, {
      snapshots,
      snapshotEvery: config.SNAPSHOT_EVERY_EVENTS,
      onSnapshotError: (error, streamId) => logger.warn({ err: error, streamId }, 'snapshot unusable; reading the stream instead'),
    });
    const services: ApiServices = {
      config,
      logger,
      db,
      store,
      bus,
      analytics,
      hasher: new ScryptPasswordHasher(),
      tokens,
      sessions: new SessionGuard(store),
      now: () => new Date(),
      newId: randomUUID,
      commandStates,
    };
    return { services, close };
  } catch (error) {
    await close();
    throw error;
  }
}
