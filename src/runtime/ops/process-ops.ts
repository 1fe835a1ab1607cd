import type { CommandServices } from '../../commands/command-states';
import { enableProcessMetrics } from '../../infrastructure/metrics/arena-metrics';
import { InstrumentedMessageBus } from '../../infrastructure/metrics/instrumented-bus';
import type { RunningRole } from '../../infrastructure/running-role';
import { startAdminChannel } from './admin-channel';
import { startProcessHeartbeat } from './process-heartbeats';

/**
 * What every long-running `arena` process does for its operators: process metrics, a heartbeat
 * (with its consumer groups' activity) for `arena status`, and the admin channel.
 */
export async function startProcessOps(services: CommandServices, roles: string[]): Promise<RunningRole> {
  enableProcessMetrics();
  const bus = services.bus;
  const activity = () => (bus instanceof InstrumentedMessageBus ? bus.groupActivity() : []);
  const heartbeat = await startProcessHeartbeat(services.db, roles, activity, services.logger.child({ component: 'heartbeat' }));
  const admin = await startAdminChannel(services);
  return {
    name: 'ops',
    stop: async () => {
      await admin.stop();
      await heartbeat.stop();
    },
  };
}
