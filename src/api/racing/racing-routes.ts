import { TelemetrySessionRepository } from '../../commands/racing/telemetry-session-repository';
import type { Services } from '../../infrastructure/container';
import { analyticsRoutes } from './analytics-routes';
import { telemetryRoutes } from './telemetry-routes';

/** The Telemetry and Analytics routes of the LapXcel contract. */
export function lapxcelRoutes(services: Services) {
  const sessions = new TelemetrySessionRepository(services.store);
  return [...telemetryRoutes(services, sessions), ...analyticsRoutes(services)];
}
