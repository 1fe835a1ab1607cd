import { ConfigError, loadConfig, type Config } from './infrastructure/config/config';
import { DataDirInUseError } from './infrastructure/database/data-dir-lock';
import type { ApiServices as Services } from './api/shared/api-services';
import { installProcessErrorPolicy } from './infrastructure/errors/unexpected-errors';
import { createLogger } from './infrastructure/logging/logger';
import { startIdleHeapRelease } from './infrastructure/process/idle-heap-release';
import { startApiServer } from './runtime/api-server';
import { migrateReadModels, startProjections, startRelay, workerRoles, type RunningRole } from './runtime/background-roles';
import { openServices } from './runtime/open-services';
import { backupCommand } from './runtime/ops/backup/backup-command';
import { restoreCommand } from './runtime/ops/backup/restore-command';
import { checkConfig } from './runtime/ops/config-check';
import { createKafkaTopics } from './runtime/ops/kafka-topics';
import { startAnalystSql } from './runtime/ops/analyst-sql-role';
import { replayCommand, statusCommand } from './runtime/ops/ops-commands';
import { clickHouseReplayNames } from './runtime/ops/replay-runner';
import { startProcessOps } from './runtime/ops/process-ops';
import { shutDown } from './runtime/process-lifecycle';
import { missingSharedJwtSecret, opensAnalytics, type ProcessKind } from './runtime/process-roles';
import { runRunnerCommand } from './workers/training/runner/runner-command-line';

const USAGE = `usage: arena <command>

  start                 everything in one process: API + WebSocket, relay, projections, workers
  serve                 API + WebSocket only
  worker <role>         one background role: ${Object.keys(workerRoles).join(', ')}
  replay <projection>   rebuild a read model from the event store's full history and swap it in
                        (ClickHouse: ${clickHouseReplayNames.join(', ')})
  migrate               create or update every schema, then exit
  config check [--role <role>]  validate the environment (and what a split role needs); opens nothing
  status [--json]       projections, relay, consumer groups, processes; exit 1 when something is stuck
  backup <dir>          copy the embedded state (event store, read models, chDB, stored files) with
                        a checksummed manifest; the app must be stopped (docs/operations.md)
  restore <dir> [--force]  verify a backup and restore it into DATA_DIR (empty, or --force)
  runner                a trainer runner: claims your training jobs from a server over HTTP and
                        runs them with local trainers (arena runner --help)

Configuration comes from environment variables (see README.md).`;

/** Exit status of a command refused because another process owns DATA_DIR (EX_TEMPFAIL). */
const EXIT_DATA_DIR_IN_USE = 75;

/** Resolves with the error once a part of the process failed for good (e.g. a bus consumer that could not recover). */
let reportFatal: (error: Error) => void = () => undefined;
const fatalFailure = new Promise<Error>((resolve) => (reportFatal = resolve));

/** Runs until a shutdown signal (exit 0) or a fatal failure (exit 1, so a supervisor restarts the process). */
async function runUntilStopped(shutdownSignal: Promise<NodeJS.Signals>, roles: RunningRole[], close: () => Promise<void>, services: Services): Promise<number> {
  const ended = await Promise.race([shutdownSignal, fatalFailure]);
  if (ended instanceof Error) {
    services.logger.fatal({ err: ended }, 'a part of this process failed for good; exiting so that it is restarted');
    await shutDown('fatal', roles, close, services.logger);
    return 1;
  }
  await shutDown(ended, roles, close, services.logger);
  return 0;
}

async function withServices<T>(
  config: Config,
  kind: ProcessKind,
  commandLine: string,
  work: (services: Services, close: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const refusal = missingSharedJwtSecret(kind, config);
  if (refusal) throw new ConfigError([{ variable: 'JWT_SECRET', message: refusal }]);
  const logger = createLogger({ level: config.LOG_LEVEL });
  installProcessErrorPolicy(logger);
  const opened = await openServices(config, logger, {
    analytics: opensAnalytics(kind, config),
    onFatal: (error) => reportFatal(error),
    command: commandLine,
  });
  // The contexts' parts are resolved from the process's container (src/runtime/app-container.ts).
  const services = opened.services;
  await migrateReadModels(services);
  return work(services, opened.close);
}

async function main(argv: string[], shutdownSignal: Promise<NodeJS.Signals>): Promise<number> {
  const [command, argument] = argv;
  const commandLine = [command, argument].filter(Boolean).join(' ');
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  // A runner is a client of some server's HTTP API: it needs none of the server's configuration.
  if (command === 'runner') return runRunnerCommand(argv.slice(1));
  if (command === 'config' && argument === 'check') {
    const roleIndex = argv.indexOf('--role');
    const result = checkConfig(process.env, roleIndex >= 0 ? argv[roleIndex + 1] : undefined, Object.keys(workerRoles));
    console.log(result.ok ? 'configuration OK' : `configuration problems:\n${result.problems.map((p) => `  ${p}`).join('\n')}`);
    return result.ok ? 0 : 2;
  }
  const config = loadConfig();
  switch (command) {
    case 'start':
    case 'serve':
      return withServices(config, { command }, commandLine, async (services, close) => {
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
        roles.push(api, startIdleHeapRelease(services.logger));
        roles.unshift(await startProcessOps(services, roles.map((r) => r.name)));
        services.logger.info({ url: api.url, roles: roles.map((r) => r.name) }, `lapxcel-arena listening on ${api.url}`);
        return runUntilStopped(shutdownSignal, roles, close, services);
      });
    case 'worker': {
      const start = argument ? workerRoles[argument] : undefined;
      if (!start) {
        console.error(`arena worker: unknown role "${argument ?? ''}"; roles: ${Object.keys(workerRoles).join(', ')}`);
        return 2;
      }
      return withServices(config, { command: 'worker', role: argument ?? '' }, commandLine, async (services, close) => {
        const role = await start(services);
        const ops = await startProcessOps(services, [role.name]);
        services.logger.info({ role: role.name }, 'worker started');
        return runUntilStopped(shutdownSignal, [ops, role, startIdleHeapRelease(services.logger)], close, services);
      });
    }
    case 'replay': {
      if (!argument) {
        console.error('arena replay: name a projection (or `all`)');
        return 2;
      }
      return replayCommand(config, argument, (work) =>
        withServices(config, { command: 'replay', analytics: clickHouseReplayNames.includes(argument) }, commandLine, work),
      );
    }
    case 'backup':
      return backupCommand(config, argv.slice(1));
    case 'restore':
      return restoreCommand(config, argv.slice(1));
    case 'status':
      return statusCommand(config, argv.slice(1), (work) => withServices(config, { command: 'status' }, commandLine, work));
    case 'migrate':
      return withServices(config, { command: 'migrate' }, commandLine, async (services, close) => {
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

/** Runs one `arena` command line and exits with its status. */
export function runArena(argv: string[], shutdownSignal: Promise<NodeJS.Signals>): void {
  main(argv, shutdownSignal).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof ConfigError) {
        console.error(error.message);
        process.exit(2);
      }
      if (error instanceof DataDirInUseError) {
        const command = process.argv.slice(2, 4).join(' ');
        console.error(`arena ${command}: refused: ${error.message}; stop that process first (or give this command another DATA_DIR)`);
        process.exit(EXIT_DATA_DIR_IN_USE);
      }
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exit(1);
    },
  );
}
