import type { AnyRouteDefinition, RateLimitCategory } from './route';
import type { AnyWebSocketChannel } from './websocket/websocket-channel';

/** LapXcel's "10 concurrent connections per user" counts its WebSocket endpoints together. */
export const LAPXCEL_WS_GROUP = 'lapxcel';

/**
 * LapXcel's routes (telemetry, analytics, training) draw from LapXcel's hourly budget instead of
 * RL-Arena's default one; a budget a route names itself (e.g. RL-Arena submissions) applies as well.
 */
export function underLapxcelLimits(routes: readonly AnyRouteDefinition[]): AnyRouteDefinition[] {
  return routes.map((route) => {
    // Trainer runners are machines on a budget of their own (per runner token), not LapXcel clients.
    if (route.rateLimit === 'runner') return route;
    const named: readonly RateLimitCategory[] = route.rateLimit === undefined ? [] : typeof route.rateLimit === 'string' ? [route.rateLimit] : route.rateLimit;
    return { ...route, rateLimit: [...named.filter((category) => category !== 'default'), 'lapxcel'] };
  });
}

/** A LapXcel WebSocket endpoint: counted in LapXcel's per-user connection cap. */
export function underLapxcelConnectionCap(channel: AnyWebSocketChannel): AnyWebSocketChannel {
  return { ...channel, connectionGroup: LAPXCEL_WS_GROUP };
}
