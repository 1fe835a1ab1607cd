import { resolveAnalystPassword } from '../../infrastructure/analytics/analyst-sql/analyst-credentials';
import { startClickHouseHttpInterface } from '../../infrastructure/analytics/analyst-sql/clickhouse-http-interface';
import { ReadOnlyChdbSession } from '../../infrastructure/analytics/analyst-sql/read-only-chdb-session';
import type { CommandServices } from '../../commands/command-states';
import type { RunningRole } from '../../infrastructure/running-role';

/**
 * Analysts' SQL on the embedded default: ClickHouse's HTTP interface over a read-only chDB session
 * (docs/analytics.md). With CLICKHOUSE_URL the analysts use the ClickHouse server instead, and with
 * ANALYTICS_HTTP_PORT=off nothing listens. A port already in use is logged, not fatal: the API
 * matters more than the analysts' door.
 */
export async function startAnalystSql(services: CommandServices): Promise<RunningRole | undefined> {
  const { config, logger } = services;
  const listen = config.ANALYTICS_HTTP_PORT;
  if (config.CLICKHOUSE_URL || !listen) return undefined;
  const log = logger.child({ component: 'analyst-sql' });
  const { password, file } = resolveAnalystPassword(config.ANALYTICS_HTTP_PASSWORD, config.dataDir);
  const session = await ReadOnlyChdbSession.open(config.dataDir, {
    maxExecutionTimeSec: config.ANALYTICS_MAX_EXECUTION_TIME_SEC,
    maxMemoryBytes: config.ANALYTICS_MAX_MEMORY_BYTES,
    maxResultRows: config.ANALYTICS_MAX_RESULT_ROWS,
  });
  try {
    const running = await startClickHouseHttpInterface({
      session,
      password,
      defaultDatabase: config.CLICKHOUSE_DATABASE,
      host: listen.host,
      port: listen.port,
      logger: log,
    });
    log.info({ url: running.url, user: 'analyst', passwordFile: file }, 'ClickHouse HTTP interface for analysts listening (read-only)');
    return {
      name: 'analyst-sql',
      stop: async () => {
        await running.close();
        await session.close();
      },
    };
  } catch (error) {
    await session.close();
    log.error({ err: error, host: listen.host, port: listen.port }, 'ClickHouse HTTP interface for analysts could not listen; the API runs without it');
    return undefined;
  }
}
