import { TelemetrySessionRepository } from '../../commands/racing/telemetry-session-repository';
import type { Services } from '../../infrastructure/services';
import { analyticsRoutes } from './analytics-routes';
import { telemetryRoutes } from './telemetry-routes';

/** The racing context's routes: LapXcel's Telemetry and Analytics. */
export function racingRoutes(services: Services) {
  const sessions = new TelemetrySessionRepository(services.store);
  return [...telemetryRoutes(services, sessions), ...analyticsRoutes(services)];
}
