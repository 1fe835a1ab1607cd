import 'reflect-metadata';
import { Container } from 'inversify';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { SessionGuard } from '../api/shared/auth/session-guard';
import type { TokenService } from '../api/shared/auth/token-service';
import type { CommandStates } from '../commands/command-states';
import type { Analytics } from './analytics/analytics';
import type { MessageBus } from './bus/message-bus';
import type { Config } from './config/config';
import type { EventStore } from './eventstore/event-store';
import type { PasswordHasher } from './security/password-hasher';

/** Service identifiers of the one inversify container the process wires itself with. */
export const TOKENS = {
  Config: Symbol.for('Config'),
  Logger: Symbol.for('Logger'),
  Database: Symbol.for('Database'),
  EventStore: Symbol.for('EventStore'),
  MessageBus: Symbol.for('MessageBus'),
  Analytics: Symbol.for('Analytics'),
  PasswordHasher: Symbol.for('PasswordHasher'),
  TokenService: Symbol.for('TokenService'),
  SessionGuard: Symbol.for('SessionGuard'),
  Clock: Symbol.for('Clock'),
  IdGenerator: Symbol.for('IdGenerator'),
  CommandStates: Symbol.for('CommandStates'),
} as const;

export interface Services {
  config: Config;
  logger: Logger;
  db: Knex;
  store: EventStore;
  bus: MessageBus;
  analytics: Analytics;
  hasher: PasswordHasher;
  tokens: TokenService;
  /** Every signed-in request: the token's user exists and its session is active. */
  sessions: SessionGuard;
  now: () => Date;
  newId: () => string;
  /** Long streams' state sources (memory over snapshots), shared by every command of the process. */
  commandStates: CommandStates;
}

export function createContainer(services: Services): Container {
  const container = new Container();
  container.bind<Config>(TOKENS.Config).toConstantValue(services.config);
  container.bind<Logger>(TOKENS.Logger).toConstantValue(services.logger);
  container.bind<Knex>(TOKENS.Database).toConstantValue(services.db);
  container.bind<EventStore>(TOKENS.EventStore).toConstantValue(services.store);
  container.bind<MessageBus>(TOKENS.MessageBus).toConstantValue(services.bus);
  container.bind<Analytics>(TOKENS.Analytics).toConstantValue(services.analytics);
  container.bind<PasswordHasher>(TOKENS.PasswordHasher).toConstantValue(services.hasher);
  container.bind<TokenService>(TOKENS.TokenService).toConstantValue(services.tokens);
  container.bind<SessionGuard>(TOKENS.SessionGuard).toConstantValue(services.sessions);
  container.bind<() => Date>(TOKENS.Clock).toConstantValue(services.now);
  container.bind<() => string>(TOKENS.IdGenerator).toConstantValue(services.newId);
  container.bind<CommandStates>(TOKENS.CommandStates).toConstantValue(services.commandStates);
  return container;
}

/** Everything the process needs, resolved from the container in one place. */
export function resolveServices(container: Container): Services {
  return {
    config: container.get<Config>(TOKENS.Config),
    logger: container.get<Logger>(TOKENS.Logger),
    db: container.get<Knex>(TOKENS.Database),
    store: container.get<EventStore>(TOKENS.EventStore),
    bus: container.get<MessageBus>(TOKENS.MessageBus),
    analytics: container.get<Analytics>(TOKENS.Analytics),
    hasher: container.get<PasswordHasher>(TOKENS.PasswordHasher),
    tokens: container.get<TokenService>(TOKENS.TokenService),
    sessions: container.get<SessionGuard>(TOKENS.SessionGuard),
    now: container.get<() => Date>(TOKENS.Clock),
    newId: container.get<() => string>(TOKENS.IdGenerator),
    commandStates: container.get<CommandStates>(TOKENS.CommandStates),
  };
}
