import type { Config } from '../infrastructure/config/config';

/**
 * What each kind of `arena` process opens. A role opens only the engines it uses: above all the
 * embedded analytics engine (chDB), which only one process can hold, and only the process that
 * runs the analytics projections has its data.
 */
export type ProcessKind = { command: 'start' | 'serve' | 'migrate' | 'status' } | { command: 'worker'; role: string } | { command: 'replay'; analytics: boolean };

/** Several processes share the system when the database or the bus is a server. */
export function isSharedDeployment(config: Config): boolean {
  return config.DATABASE_URL !== undefined || config.KAFKA_BROKERS !== undefined;
}

export function opensAnalytics(kind: ProcessKind, config: Config): boolean {
  switch (kind.command) {
    case 'start':
      return true;
    case 'serve':
      // A server is shared by everyone. Embedded chDB in a split deployment is the analytics
      // projections' process's; an API process of its own would read an empty copy.
      return config.CLICKHOUSE_URL !== undefined || !isSharedDeployment(config);
    case 'worker':
      return kind.role === 'analytics-projections';
    case 'replay':
      return kind.analytics;
    case 'migrate':
    case 'status':
      return false;
  }
}

/**
 * An API process of a shared deployment without JWT_SECRET would sign tokens with a secret of its
 * own (generated into its DATA_DIR), which the other API processes reject with 401. Returns the
 * reason to refuse start-up, or undefined.
 */
export function missingSharedJwtSecret(kind: ProcessKind, config: Config): string | undefined {
  if (config.JWT_SECRET !== undefined) return undefined;
  if (kind.command !== 'serve' && kind.command !== 'start') return undefined;
  if (!isSharedDeployment(config)) return undefined;
  const shared = [config.DATABASE_URL !== undefined ? 'DATABASE_URL' : undefined, config.KAFKA_BROKERS !== undefined ? 'KAFKA_BROKERS' : undefined]
    .filter((name): name is string => name !== undefined)
    .join(' and ');
  return (
    `arena ${kind.command}: JWT_SECRET must be set when ${shared} point at shared servers. ` +
    'Several API processes then serve the same users, and each would otherwise generate its own signing secret ' +
    'into its DATA_DIR, so a token issued by one process would get 401 from another. ' +
    'Set the same JWT_SECRET (at least 32 characters) in every API process.'
  );
}
