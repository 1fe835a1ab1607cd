import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from '../api/http-app';
import { answerClientErrors } from '../api/shared/client-error';
import { LiveEvents } from '../api/shared/websocket/live-events';
import { WebSocketGateway } from '../api/shared/websocket/websocket-gateway';
import { arenaStaticMounts } from '../infrastructure/artifacts/arena-storage';
import type { ApiServices } from '../api/shared/api-services';
import { containErrors } from '../infrastructure/errors/unexpected-errors';
import { websocketConnections } from '../infrastructure/metrics/arena-metrics';
import { catchUpOwnWrite, waitForProjection } from '../projections/postgres/projection-runner';
import { RecordingEventStore } from '../commands/recording-event-store';
import type { RunningRole } from '../infrastructure/running-role';
import { allPostgresProjections, apiRoutes, apiWebSocketChannels } from './app-container';
import { statusMetricsRefresher } from './ops/status-metrics';
import { readinessChecks } from './readiness-checks';

export interface RunningApi extends RunningRole {
  server: Server;
  /** http://host:port of the listening server. */
  url: string;
  gateway: WebSocketGateway;
}

export async function startApiServer(services: ApiServices, listen: { host: string; port: number }): Promise<RunningApi> {
  const refreshStatusMetrics = statusMetricsRefresher(services);
  let gateway: WebSocketGateway | undefined;
  const projectionsByName = new Map(allPostgresProjections.map((projection) => [projection.name, projection]));
  const ownWriteLogger = services.logger.child({ component: 'read-your-writes' });
  // Commands append through it: their read-your-writes applies the appended events without reading them back.
  const commandStore = new RecordingEventStore(services.store);
  const app = createHttpApp({
    config: services.config,
    logger: services.logger,
    routes: apiRoutes(services),
    commands: {
      store: commandStore,
      now: services.now,
      newId: services.newId,
      states: services.commandStates,
      // Stream-local read models get the command's own events applied at once; others wait for the bus's delivery.
      waitForProjection: (projectionName, streamId, revision) => {
        const projection = projectionsByName.get(projectionName);
        const ownEvents = (fromRevision: bigint) => commandStore.appendedFrom(streamId, fromRevision);
        return projection
          ? catchUpOwnWrite(services.db, services.store, projection, streamId, revision, { bus: services.bus, logger: ownWriteLogger, ownEvents })
          : waitForProjection(services.db, projectionName, streamId, revision, { bus: services.bus });
      },
    },
    readiness: readinessChecks(services),
    tokens: services.tokens,
    sessions: services.sessions,
    staticMounts: arenaStaticMounts(services.config),
    beforeMetricsScrape: async () => {
      websocketConnections.set(gateway?.openConnections ?? 0);
      await refreshStatusMetrics();
    },
  });
  // WebSocket channels and their live-event feed are ready before the port opens, so an answering
  // /readyz means the whole API (HTTP and WebSocket) is up.
  const server = createServer(app);
  answerClientErrors(server, services.logger.child({ component: 'http' }));
  // Idle keep-alive connections stay open longer than the clients' pools reuse them (Node's 5 s
  // default raced clients: a reused socket closed under a request, seen by the fuzzer as a network error).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  gateway = new WebSocketGateway({
    tokens: services.tokens,
    sessions: services.sessions,
    logger: services.logger.child({ component: 'ws' }),
    maxConnectionsPerUser: services.config.WS_MAX_CONNECTIONS_PER_USER,
  });
  const live = new LiveEvents();
  for (const channel of apiWebSocketChannels({ services, live, gateway })) gateway.register(channel);
  gateway.attach(server);
  await live.start(services.bus, { topicPrefix: services.config.TOPIC_PREFIX, logger: services.logger.child({ component: 'live-events' }) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  // Past listen, a server error (e.g. accept failing on EMFILE) concerns one connection attempt.
  containErrors(server, services.logger, { kind: 'http_server' });
  const address = server.address() as AddressInfo;
  const host = listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
  return {
    name: 'api',
    server,
    url: `http://${host}:${address.port}`,
    gateway,
    stop: async () => {
      await live.stop();
      await gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
