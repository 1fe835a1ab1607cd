import type { CommandServices } from '../../../commands/command-states';
import type { LiveEvents } from './live-events';
import type { WebSocketGateway } from './websocket-gateway';

/** What a WebSocket channel is built from: the process's services, the live-event feed and the gateway. */
export interface WebSocketDeps {
  services: CommandServices;
  live: LiveEvents;
  gateway: WebSocketGateway;
}
