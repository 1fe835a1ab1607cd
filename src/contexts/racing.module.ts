import { ContainerModule } from 'inversify';
import { underLapxcelConnectionCap, underLapxcelLimits } from '../api/shared/lapxcel-budgets';
import type { AnyRouteDefinition } from '../api/shared/route';
import { telemetryAnalyticsProjection } from '../projections/clickhouse/racing/telemetry-analytics-projection';
import { racingLeaderboardProjection } from '../projections/postgres/racing/racing-leaderboard-projection';
import { sessionNotesProjection } from '../projections/postgres/racing/session-notes-projection';
import { telemetrySessionsProjection } from '../projections/postgres/racing/telemetry-sessions-projection';
import { Contribution, contribute, servicesOf } from './contributions';

// Routes and the WebSocket channel are loaded when first used: commands that serve no HTTP (replay, migrate, workers) skip their modules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const racingApi = () => require('../api/racing/racing-routes') as typeof import('../api/racing/racing-routes');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const noteApi = () => require('../api/racing/session-note-routes') as typeof import('../api/racing/session-note-routes');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const racingSocket = () => require('../api/racing/telemetry-websocket') as typeof import('../api/racing/telemetry-websocket');

/** Racing (LapXcel): telemetry sessions and their notes, their analytics in ClickHouse, the track leaderboards. */
export const racingModule = new ContainerModule((bind) => {
  contribute(bind, Contribution.Routes).toDynamicValue((context) => underLapxcelLimits(racingApi().racingRoutes(servicesOf(context)) as AnyRouteDefinition[]));
  contribute(bind, Contribution.Routes).toDynamicValue((context) => underLapxcelLimits(noteApi().sessionNoteRoutes(servicesOf(context)) as AnyRouteDefinition[]));
  contribute(bind, Contribution.PostgresProjection).toConstantValue(telemetrySessionsProjection);
  contribute(bind, Contribution.PostgresProjection).toConstantValue(sessionNotesProjection);
  contribute(bind, Contribution.PostgresProjection).toConstantValue(racingLeaderboardProjection);
  contribute(bind, Contribution.ReplayGroup).toConstantValue({ name: 'leaderboards', projections: [racingLeaderboardProjection.name] });
  contribute(bind, Contribution.ClickHouseProjection).toConstantValue(telemetryAnalyticsProjection);
  contribute(bind, Contribution.WebSocketChannel).toConstantValue((deps) => underLapxcelConnectionCap(racingSocket().telemetryWebSocketChannel(deps)));
});
