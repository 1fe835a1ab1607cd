import { ContainerModule } from 'inversify';
import { racingRoutes } from '../api/racing/racing-routes';
import { sessionNoteRoutes } from '../api/racing/session-note-routes';
import { telemetryWebSocketChannel } from '../api/racing/telemetry-websocket';
import { underLapxcelConnectionCap, underLapxcelLimits } from '../api/shared/lapxcel-budgets';
import type { AnyRouteDefinition } from '../api/shared/route';
import { telemetryAnalyticsProjection } from '../projections/clickhouse/racing/telemetry-analytics-projection';
import { racingLeaderboardProjection } from '../projections/postgres/racing/racing-leaderboard-projection';
import { sessionNotesProjection } from '../projections/postgres/racing/session-notes-projection';
import { telemetrySessionsProjection } from '../projections/postgres/racing/telemetry-sessions-projection';
import { Contribution, contribute, servicesOf } from './contributions';

/** Racing (LapXcel): telemetry sessions and their notes, their analytics in ClickHouse, the track leaderboards. */
export const racingModule = new ContainerModule((bind) => {
  contribute(bind, Contribution.Routes).toDynamicValue((context) => underLapxcelLimits(racingRoutes(servicesOf(context)) as AnyRouteDefinition[]));
  contribute(bind, Contribution.Routes).toDynamicValue((context) => underLapxcelLimits(sessionNoteRoutes(servicesOf(context)) as AnyRouteDefinition[]));
  contribute(bind, Contribution.PostgresProjection).toConstantValue(telemetrySessionsProjection);
  contribute(bind, Contribution.PostgresProjection).toConstantValue(sessionNotesProjection);
  contribute(bind, Contribution.PostgresProjection).toConstantValue(racingLeaderboardProjection);
  contribute(bind, Contribution.ReplayGroup).toConstantValue({ name: 'leaderboards', projections: [racingLeaderboardProjection.name] });
  contribute(bind, Contribution.ClickHouseProjection).toConstantValue(telemetryAnalyticsProjection);
  contribute(bind, Contribution.WebSocketChannel).toConstantValue((deps) => underLapxcelConnectionCap(telemetryWebSocketChannel(deps)));
});
