#!/usr/bin/env node
import { ConfigError, loadConfig, type Config } from './infrastructure/config/config';
import { createContainer, resolveServices, type Services } from './infrastructure/container';
import { createLogger } from './infrastructure/logging/logger';
import { clickHouseReplays } from './projections/clickhouse/clickhouse-replay';
import { startApiServer } from './runtime/api-server';
import { migrateReadModels, startProjections, startRelay, workerRoles, type RunningRole } from './runtime/background-roles';
import { openServices } from './runtime/open-services';
import { checkConfig } from './runtime/ops/config-check';
import { createKafkaTopics } from './runtime/ops/kafka-topics';
import { startAnalystSql } from './runtime/ops/analyst-sql-role';
import { replayCommand, statusCommand } from './runtime/ops/ops-commands';
import { startProcessOps } from './runtime/ops/process-ops';
import { firstShutdownSignal, shutDown } from './runtime/process-lifecycle';

const USAGE = `usage: arena <command>

  start                 everything in one process: API + WebSocket, relay, projections, workers
  serve                 API + WebSocket only
  worker <role>         one background role: ${Object.keys(workerRoles).join(', ')}
  replay <projection>   rebuild a read model from the event store's full history and swap it in
                        (ClickHouse: ${Object.keys(clickHouseReplays).join(', ')})
  migrate               create or update every schema, then exit
  config check [--role <role>]  validate the environment (and what a split role needs); opens nothing
  status [--json]       projections, relay, consumer groups, processes; exit 1 when something is stuck

Configuration comes from environment variables (see README.md).`;

async function withServices<T>(config: Config, work: (services: Services, close: () => Promise<void>) => Promise<T>): Promise<T> {
  const logger = createLogger({ level: config.LOG_LEVEL });
  const opened = await openServices(config, logger);
  // One container wires the process; roles resolve what they need from it.
  const services = resolveServices(createContainer(opened.services));
  await migrateReadModels(services);
  return work(services, opened.close);
}

async function main(argv: string[]): Promise<number> {
  const [command, argument] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'config' && argument === 'check') {
    const roleIndex = argv.indexOf('--role');
    const result = checkConfig(process.env, roleIndex >= 0 ? argv[roleIndex + 1] : undefined, Object.keys(workerRoles));
    console.log(result.ok ? 'configuration OK' : `configuration problems:\n${result.problems.map((p) => `  ${p}`).join('\n')}`);
    return result.ok ? 0 : 2;
  }
  const config = loadConfig();
  const shutdownSignal = firstShutdownSignal();
  switch (command) {
    case 'start':
    case 'serve':
      return withServices(config, async (services, close) => {
        const roles: RunningRole[] = [];
        if (command === 'start') {
          roles.push(startRelay(services), await startProjections(services));
          for (const [name, start] of Object.entries(workerRoles)) {
            if (name !== 'relay' && name !== 'projections') roles.push(await start(services));
          }
        }
        // Before the API: an answering /readyz means the analysts' port is open too.
        const analystSql = await startAnalystSql(services);
        if (analystSql) roles.push(analystSql);
        const api = await startApiServer(services, { host: config.HOST, port: config.PORT });
        roles.push(api);
        roles.unshift(await startProcessOps(services, roles.map((r) => r.name)));
        services.logger.info({ url: api.url, roles: roles.map((r) => r.name) }, `lapxcel-arena listening on ${api.url}`);
        await shutDown(await shutdownSignal, roles, close, services.logger);
        return 0;
      });
    case 'worker': {
      const start = argument ? workerRoles[argument] : undefined;
      if (!start) {
        console.error(`arena worker: unknown role "${argument ?? ''}"; roles: ${Object.keys(workerRoles).join(', ')}`);
        return 2;
      }
      return withServices(config, async (services, close) => {
        const role = await start(services);
        const ops = await startProcessOps(services, [role.name]);
        services.logger.info({ role: role.name }, 'worker started');
        await shutDown(await shutdownSignal, [ops, role], close, services.logger);
        return 0;
      });
    }
    case 'replay': {
      if (!argument) {
        console.error('arena replay: name a projection (or `all`)');
        return 2;
      }
      return replayCommand(config, argument, (work) => withServices(config, work));
    }
    case 'status':
      return statusCommand(config, argv.slice(1), (work) => withServices(config, work));
    case 'migrate':
      return withServices(config, async (services, close) => {
        const topics = await createKafkaTopics(config);
        if (topics.length > 0) services.logger.info({ topics }, 'Kafka topics created');
        services.logger.info('schemas are up to date');
        await close();
        return 0;
      });
    default:
      console.error(`arena: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
