import type { Services } from '../infrastructure/container';
import type { LiveEvents } from './shared/websocket/live-events';
import type { AnyWebSocketChannel } from './shared/websocket/websocket-channel';
import type { WebSocketGateway } from './shared/websocket/websocket-gateway';

export interface WebSocketDeps {
  services: Services;
  live: LiveEvents;
  gateway: WebSocketGateway;
}

/** Every WebSocket endpoint of both contracts. Features add their channels here. */
export function apiWebSocketChannels(deps: WebSocketDeps): AnyWebSocketChannel[] {
  void deps;
  return [];
}
