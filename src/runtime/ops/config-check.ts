import { ConfigError, loadConfig, type Config } from '../../infrastructure/config/config';

export interface ConfigCheckResult {
  ok: boolean;
  problems: string[];
}

/**
 * `arena config check [--role <role>]`: validates the environment without opening anything. With a
 * role of the split topology (serve, or a worker role) it also checks what a process sharing the
 * work with others needs: embedded PostgreSQL, the in-process bus and chDB belong to one process,
 * so every split role needs DATABASE_URL and CLICKHOUSE_URL (the bus may stay in-process: it lives in
 * that PostgreSQL; across machines use KAFKA_BROKERS), and API processes behind
 * a proxy need one JWT_SECRET between them.
 */
export function checkConfig(env: NodeJS.ProcessEnv, role: string | undefined, knownRoles: string[]): ConfigCheckResult {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: error.issues.map((i) => `${i.variable}: ${i.message}`) };
    throw error;
  }
  const problems: string[] = [];
  if (role !== undefined && role !== 'start') {
    if (role !== 'serve' && !knownRoles.includes(role)) problems.push(`unknown role "${role}"; roles: start, serve, ${knownRoles.join(', ')}`);
    if (!config.DATABASE_URL) problems.push('DATABASE_URL: a split role needs a PostgreSQL server (embedded PostgreSQL belongs to one process)');
    if (!config.CLICKHOUSE_URL) problems.push('CLICKHOUSE_URL: a split role needs a ClickHouse server (embedded chDB belongs to one process)');
    if (role === 'serve' && !config.JWT_SECRET) problems.push('JWT_SECRET: API processes behind one proxy must share one secret');
  }
  if (config.NODE_ENV === 'production' && !config.JWT_SECRET) problems.push('JWT_SECRET: required in production');
  return { ok: problems.length === 0, problems };
}
