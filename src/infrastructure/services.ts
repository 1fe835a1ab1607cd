import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Analytics } from './analytics/analytics';
import type { MessageBus } from './bus/message-bus';
import type { Config } from './config/config';
import type { EventStore } from './eventstore/event-store';
import type { PasswordHasher } from './security/password-hasher';

/**
 * The adapters a process opened (src/runtime/open-services.ts): what commands, projections and
 * workers are given. The API adds its authentication services (src/api/shared/api-services.ts).
 */
export interface Services {
  config: Config;
  logger: Logger;
  db: Knex;
  store: EventStore;
  bus: MessageBus;
  analytics: Analytics;
  hasher: PasswordHasher;
  now: () => Date;
  newId: () => string;
}
