import type { Logger } from 'pino';
import type { RunningRole } from './background-roles';

/** Stops roles in reverse start order, then closes services, once, on SIGINT/SIGTERM. */
export function stopOnSignals(roles: RunningRole[], closeServices: () => Promise<void>, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      for (const role of [...roles].reverse()) {
        try {
          await role.stop();
        } catch (error) {
          logger.warn({ err: error, role: role.name }, 'role did not stop cleanly');
        }
      }
      await closeServices();
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
