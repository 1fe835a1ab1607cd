#!/usr/bin/env node
import { ConfigError, loadConfig, type Config } from './infrastructure/config/config';
import { createContainer, resolveServices, type Services } from './infrastructure/container';
import { createLogger } from './infrastructure/logging/logger';
import { clickHouseReplays } from './projections/clickhouse/clickhouse-replay';
import { projectionsForReplay } from './projections/postgres/projection-catalog';
import { rebuildProjection } from './projections/postgres/projection-rebuild';
import { startApiServer } from './runtime/api-server';
import { migrateReadModels, startProjections, startRelay, workerRoles, type RunningRole } from './runtime/background-roles';
import { openServices } from './runtime/open-services';
import { firstShutdownSignal, shutDown } from './runtime/process-lifecycle';
import { runRunnerCommand } from './workers/training/runner/runner-command-line';

const USAGE = `usage: arena <command>

  start                 everything in one process: API + WebSocket, relay, projections, workers
  serve                 API + WebSocket only
  worker <role>         one background role: ${Object.keys(workerRoles).join(', ')}
  replay <projection>   rebuild a read model from the event store's full history and swap it in
                        (ClickHouse: ${Object.keys(clickHouseReplays).join(', ')})
  migrate               create or update every schema, then exit
  runner                a trainer runner: claims your training jobs from a server over HTTP and
                        runs them with local trainers (arena runner --help)

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
  // A runner is a client of some server's HTTP API: it needs none of the server's configuration.
  if (command === 'runner') return runRunnerCommand(argv.slice(1));
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
        const api = await startApiServer(services, { host: config.HOST, port: config.PORT });
        roles.push(api);
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
        services.logger.info({ role: role.name }, 'worker started');
        await shutDown(await shutdownSignal, [role], close, services.logger);
        return 0;
      });
    }
    case 'replay': {
      if (!argument) {
        console.error('arena replay: name a projection (or `all`)');
        return 2;
      }
      const analyticsReplay = clickHouseReplays[argument];
      if (analyticsReplay) {
        return withServices(config, async (services, close) => {
          try {
            console.table(await analyticsReplay(services));
            return 0;
          } finally {
            await close();
          }
        });
      }
      const projections = projectionsForReplay(argument);
      return withServices(config, async (services, close) => {
        try {
          const rows: { projection: string; events_applied: number }[] = [];
          for (const projection of projections) {
            const result = await rebuildProjection(services.db, services.store, projection, { logger: services.logger });
            rows.push({ projection: result.projection, events_applied: result.eventsApplied });
          }
          console.table(rows);
          return 0;
        } finally {
          await close();
        }
      });
    }
    case 'migrate':
      return withServices(config, async (services, close) => {
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
