import { ConfigError, loadConfig, type Config } from './infrastructure/config/config';
import { DataDirInUseError } from './infrastructure/database/data-dir-lock';
import type { ApiServices as Services } from './api/shared/api-services';
import { installProcessErrorPolicy } from './infrastructure/errors/unexpected-errors';
import { createLogger } from './infrastructure/logging/logger';
import { startIdleHeapRelease } from './infrastructure/process/idle-heap-release';
import type { RunningRole } from './runtime/background-roles';
import { shutDown } from './runtime/process-lifecycle';
import { missingSharedJwtSecret, opensAnalytics, type ProcessKind } from './runtime/process-roles';

/*
 * Each command loads the modules it uses when it runs (a command's start-up is mostly loading
 * modules): \`arena replay\` or \`migrate\` never load the HTTP API, the workers, the Kafka, ESDB
 * or ClickHouse clients unless configured, and \`arena runner\` loads none of the server.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const backgroundRoles = () => require('./runtime/background-roles') as typeof import('./runtime/background-roles');
const apiServer = () => require('./runtime/api-server') as typeof import('./runtime/api-server');
const servicesOpener = () => require('./runtime/open-services') as typeof import('./runtime/open-services');
const backup = () => require('./runtime/ops/backup/backup-command') as typeof import('./runtime/ops/backup/backup-command');
const restore = () => require('./runtime/ops/backup/restore-command') as typeof import('./runtime/ops/backup/restore-command');
const configCheck = () => require('./runtime/ops/config-check') as typeof import('./runtime/ops/config-check');
const kafkaTopics = () => require('./runtime/ops/kafka-topics') as typeof import('./runtime/ops/kafka-topics');
const analystSql = () => require('./runtime/ops/analyst-sql-role') as typeof import('./runtime/ops/analyst-sql-role');
const opsCommands = () => require('./runtime/ops/ops-commands') as typeof import('./runtime/ops/ops-commands');
const replayRunner = () => require('./runtime/ops/replay-runner') as typeof import('./runtime/ops/replay-runner');
const processOps = () => require('./runtime/ops/process-ops') as typeof import('./runtime/ops/process-ops');
const runnerCommandLine = () => require('./workers/training/runner/runner-command-line') as typeof import('./workers/training/runner/runner-command-line');
/* eslint-enable @typescript-eslint/no-require-imports */

const usage = () => `usage: arena <command>

  start                 everything in one process: API + WebSocket, relay, projections, workers
  serve                 API + WebSocket only
  worker <role>         one background role: ${Object.keys(backgroundRoles().workerRoles).join(', ')}
  replay <projection>   rebuild a read model from the event store's full history and swap it in
                        (ClickHouse: ${replayRunner().clickHouseReplayNames.join(', ')})
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
  const opened = await servicesOpener().openServices(config, logger, {
    analytics: opensAnalytics(kind, config),
    onFatal: (error) => reportFatal(error),
    command: commandLine,
  });
  // The contexts' parts are resolved from the process's container (src/runtime/app-container.ts).
  const services = opened.services;
  await backgroundRoles().migrateReadModels(services);
  return work(services, opened.close);
}

async function main(argv: string[], shutdownSignal: Promise<NodeJS.Signals>): Promise<number> {
  const [command, argument] = argv;
  const commandLine = [command, argument].filter(Boolean).join(' ');
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(usage());
    return command ? 0 : 2;
  }
  // A runner is a client of some server's HTTP API: it needs none of the server's configuration.
  if (command === 'runner') return runnerCommandLine().runRunnerCommand(argv.slice(1));
  if (command === 'config' && argument === 'check') {
    const roleIndex = argv.indexOf('--role');
    const result = configCheck().checkConfig(process.env, roleIndex >= 0 ? argv[roleIndex + 1] : undefined, Object.keys(backgroundRoles().workerRoles));
    console.log(result.ok ? 'configuration OK' : `configuration problems:\n${result.problems.map((p) => `  ${p}`).join('\n')}`);
    return result.ok ? 0 : 2;
  }
  const config = loadConfig();
  switch (command) {
    case 'start':
    case 'serve':
      return withServices(config, { command }, commandLine, async (services, close) => {
        const roles: RunningRole[] = [];
        const { startProjections, startRelay, workerRoles } = backgroundRoles();
        if (command === 'start') {
          roles.push(startRelay(services), await startProjections(services));
          for (const [name, start] of Object.entries(workerRoles)) {
            if (name !== 'relay' && name !== 'projections') roles.push(await start(services));
          }
        }
        // Before the API: an answering /readyz means the analysts' port is open too.
        const analystSqlRole = await analystSql().startAnalystSql(services);
        if (analystSqlRole) roles.push(analystSqlRole);
        const api = await apiServer().startApiServer(services, { host: config.HOST, port: config.PORT });
        roles.push(api, startIdleHeapRelease(services.logger));
        roles.unshift(await processOps().startProcessOps(services, roles.map((r) => r.name)));
        services.logger.info({ url: api.url, roles: roles.map((r) => r.name) }, `lapxcel-arena listening on ${api.url}`);
        return runUntilStopped(shutdownSignal, roles, close, services);
      });
    case 'worker': {
      const { workerRoles } = backgroundRoles();
      const start = argument ? workerRoles[argument] : undefined;
      if (!start) {
        console.error(`arena worker: unknown role "${argument ?? ''}"; roles: ${Object.keys(workerRoles).join(', ')}`);
        return 2;
      }
      return withServices(config, { command: 'worker', role: argument ?? '' }, commandLine, async (services, close) => {
        const role = await start(services);
        const ops = await processOps().startProcessOps(services, [role.name]);
        services.logger.info({ role: role.name }, 'worker started');
        return runUntilStopped(shutdownSignal, [ops, role, startIdleHeapRelease(services.logger)], close, services);
      });
    }
    case 'replay': {
      if (!argument) {
        console.error('arena replay: name a projection (or `all`)');
        return 2;
      }
      return opsCommands().replayCommand(config, argument, (work) =>
        withServices(config, { command: 'replay', analytics: replayRunner().clickHouseReplayNames.includes(argument) }, commandLine, work),
      );
    }
    case 'backup':
      return backup().backupCommand(config, argv.slice(1));
    case 'restore':
      return restore().restoreCommand(config, argv.slice(1));
    case 'status':
      return opsCommands().statusCommand(config, argv.slice(1), (work) => withServices(config, { command: 'status' }, commandLine, work));
    case 'migrate':
      return withServices(config, { command: 'migrate' }, commandLine, async (services, close) => {
        const topics = await kafkaTopics().createKafkaTopics(config);
        if (topics.length > 0) services.logger.info({ topics }, 'Kafka topics created');
        services.logger.info('schemas are up to date');
        await close();
        return 0;
      });
    default:
      console.error(`arena: unknown command "${command}"\n\n${usage()}`);
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
