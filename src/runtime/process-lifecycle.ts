import type { Logger } from 'pino';
import type { RunningRole } from './background-roles';

/**
 * Resolves with the first SIGINT/SIGTERM. Listen from the very start of the process, so a signal that
 * arrives while roles are still starting is not met by the default handler (an abrupt exit): the
 * shutdown then runs as soon as start-up has finished.
 */
export function firstShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Stops roles in reverse start order, then closes services. */
export async function shutDown(signal: string, roles: RunningRole[], closeServices: () => Promise<void>, logger: Logger): Promise<void> {
  logger.info({ signal }, 'shutting down');
  for (const role of [...roles].reverse()) {
    try {
      await role.stop();
    } catch (error) {
      logger.warn({ err: error, role: role.name }, 'role did not stop cleanly');
    }
  }
  await closeServices();
}
