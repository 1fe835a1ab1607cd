import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { TokenService } from '../api/shared/auth/token-service';
import { createAnalytics } from '../infrastructure/analytics/clickhouse-analytics';
import { InProcessMessageBus } from '../infrastructure/bus/in-process-bus';
import { KafkaMessageBus } from '../infrastructure/bus/kafka-bus';
import type { MessageBus } from '../infrastructure/bus/message-bus';
import type { Config } from '../infrastructure/config/config';
import type { Services } from '../infrastructure/container';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../infrastructure/database/embedded-postgres';
import { createKnex } from '../infrastructure/database/knex';
import { EventStoreDbEventStore } from '../infrastructure/eventstore/esdb-event-store';
import type { EventStore } from '../infrastructure/eventstore/event-store';
import { PostgresEventStore } from '../infrastructure/eventstore/postgres-event-store';
import { migrateEventStoreSchema } from '../infrastructure/eventstore/postgres-event-store-schema';
import { InstrumentedMessageBus } from '../infrastructure/metrics/instrumented-bus';
import { InstrumentedEventStore } from '../infrastructure/metrics/instrumented-event-store';
import { resolveJwtSecret } from '../infrastructure/security/jwt-secret';
import { ScryptPasswordHasher } from '../infrastructure/security/password-hasher';

export interface OpenedServices {
  services: Services;
  /** Closes everything opened, in reverse order. */
  close(): Promise<void>;
}

const EMBEDDED_DATABASE = 'arena';

/**
 * Opens every adapter the configuration selects: servers by URL, embedded defaults otherwise
 * (embedded PostgreSQL, the PostgreSQL event store, the in-process bus, chDB).
 */
export async function openServices(config: Config, logger: Logger): Promise<OpenedServices> {
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
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const pg: EmbeddedPostgresServer = await startEmbeddedPostgres({
        dataDir: join(config.dataDir, 'postgres'),
        port: config.EMBEDDED_POSTGRES_PORT,
        persistent: true,
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
      store = new EventStoreDbEventStore(config.ESDB_URL, logger.child({ component: 'eventstore' }));
    } else {
      await migrateEventStoreSchema(db);
      store = new PostgresEventStore(db, logger.child({ component: 'eventstore' }));
    }
    closers.push(() => store.close());
    store = new InstrumentedEventStore(store);

    let bus: MessageBus;
    if (config.KAFKA_BROKERS) {
      bus = new KafkaMessageBus({
        brokers: config.KAFKA_BROKERS,
        clientId: config.KAFKA_CLIENT_ID,
        groupNamespace: config.TOPIC_PREFIX,
        logger: logger.child({ component: 'bus' }),
      });
    } else {
      const inProcess = new InProcessMessageBus(db, logger.child({ component: 'bus' }), { groupNamespace: config.TOPIC_PREFIX });
      await inProcess.migrate();
      bus = inProcess;
    }
    closers.push(() => bus.close());
    bus = new InstrumentedMessageBus(bus);

    const analytics = await createAnalytics({
      url: config.CLICKHOUSE_URL,
      database: config.CLICKHOUSE_DATABASE,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'analytics' }),
    });
    closers.push(() => analytics.close());

    const tokens = new TokenService({
      secret: resolveJwtSecret({ configured: config.JWT_SECRET, dataDir: config.dataDir, production: config.NODE_ENV === 'production' }),
      accessTokenTtlSec: config.ACCESS_TOKEN_TTL_SEC,
      refreshTokenTtlSec: config.REFRESH_TOKEN_TTL_SEC,
    });
    const services: Services = {
      config,
      logger,
      db,
      store,
      bus,
      analytics,
      hasher: new ScryptPasswordHasher(),
      tokens,
      now: () => new Date(),
      newId: randomUUID,
    };
    return { services, close };
  } catch (error) {
    await close();
    throw error;
  }
}
