import type { Services } from '../infrastructure/container';
import { arenaWebSocketChannel } from './arena/arena-websocket';
import { telemetryWebSocketChannel } from './racing/telemetry-websocket';
import { trainingWebSocketChannel } from './training/training-websocket';
import type { LiveEvents } from './shared/websocket/live-events';
import type { AnyWebSocketChannel } from './shared/websocket/websocket-channel';
import type { WebSocketGateway } from './shared/websocket/websocket-gateway';

export const LAPXCEL_WS_GROUP = 'lapxcel';

export interface WebSocketDeps {
  services: Services;
  live: LiveEvents;
  gateway: WebSocketGateway;
}

/** Every WebSocket endpoint of both contracts. Features add their channels here. */
export function apiWebSocketChannels(deps: WebSocketDeps): AnyWebSocketChannel[] {
  // LapXcel's "10 concurrent connections per user" counts its two endpoints together.
  const lapxcel = (channel: AnyWebSocketChannel): AnyWebSocketChannel => ({ ...channel, connectionGroup: LAPXCEL_WS_GROUP });
  return [lapxcel(telemetryWebSocketChannel(deps)), arenaWebSocketChannel(deps), lapxcel(trainingWebSocketChannel(deps))];
}
