import type { Logger } from 'pino';
import type { RunningRole } from '../infrastructure/running-role';

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
