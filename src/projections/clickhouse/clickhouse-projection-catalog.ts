import type { ClickHouseProjection } from './clickhouse-projection';
import { telemetryAnalyticsProjection } from './racing/telemetry-analytics-projection';

/** Every ClickHouse projection the `analytics-projections` role runs. Later features add theirs here. */
export const allClickHouseProjections: ClickHouseProjection[] = [telemetryAnalyticsProjection];
