import { TelemetrySessionRepository } from '../../commands/racing/telemetry-session-repository';
import type { CommandServices } from '../../commands/command-states';
import { analyticsRoutes } from './analytics-routes';
import { telemetryRoutes } from './telemetry-routes';

/** The racing context's routes: LapXcel's Telemetry and Analytics. */
export function racingRoutes(services: CommandServices) {
  const sessions = new TelemetrySessionRepository(services.store, { source: services.commandStates.telemetrySessions });
  return [...telemetryRoutes(services, sessions), ...analyticsRoutes(services)];
}
