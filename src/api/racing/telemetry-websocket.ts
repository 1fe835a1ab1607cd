import { z } from 'zod';
import { SESSION_CATEGORY, sessionStreamId } from '../../domain/racing/telemetry-session-events';
import { batchLength } from '../../domain/racing/telemetry-batch';
import { ValidationError } from '../../domain/shared/errors';
import { requireOwnedTelemetrySession } from '../../projections/postgres/racing/telemetry-session-queries';
import { defineWebSocketChannel, type WebSocketConnection } from '../shared/websocket/websocket-channel';
import type { WebSocketDeps } from '../shared/websocket/websocket-deps';

export const TELEMETRY_WS_PATH = '/ws/telemetry';
/** Sessions one socket may follow at once: a dashboard follows a few, not the whole garage. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 20;

const SessionMessage = (type: 'subscribe' | 'unsubscribe') =>
  z.object({ type: z.literal(type), session_id: z.uuid({ error: 'session_id must be a session UUID' }) });

export const TelemetryClientMessage = z.discriminatedUnion('type', [SessionMessage('subscribe'), SessionMessage('unsubscribe')]);

/**
 * ws://host/ws/telemetry?token=…: live telemetry of your own sessions (docs/analytics.md,
 * "WebSocket"). Points reach every API process through the bus (LiveEvents), so a subscriber
 * connected to any process receives the points uploaded through any other.
 */
/** A session's stream id is this prefix and the session id. */
const SESSION_STREAM_PREFIX = sessionStreamId('');

export function telemetryWebSocketChannel({ services, live, gateway }: WebSocketDeps) {
  const subscribedTo = (sessionId: string) => (connection: WebSocketConnection) => connection.topics.has(sessionId);

  /** Whether any socket of this process follows the session; selects nobody, so sends nothing. */
  const hasSubscribers = (sessionId: string): boolean => {
    let found = false;
    gateway.broadcast((connection) => {
      found ||= connection.topics.has(sessionId);
      return false;
    }, { type: 'noop' }, TELEMETRY_WS_PATH);
    return found;
  };

  live.on(
    [SESSION_CATEGORY],
    {
      TelemetryBatchRecorded: async ({ data: { sessionId, columns } }) => {
        for (let i = 0; i < batchLength(columns); i += 1) {
          const sent = gateway.broadcast(
            subscribedTo(sessionId),
            {
              type: 'telemetry_data',
              session_id: sessionId,
              telemetry: {
                timestamp: new Date(columns.timestampMs[i]!).toISOString(),
                speed: columns.speedKmh[i]!,
                throttle: columns.throttleInput[i]!,
                brake: columns.brakeInput[i]!,
                steering: columns.steeringInput[i]!,
                gear: columns.gear[i]!,
                rpm: columns.rpm[i]!,
              },
            },
            TELEMETRY_WS_PATH,
          );
          if (sent === 0) return;
        }
      },
      LapCompleted: async ({ data: lap }) => {
        gateway.broadcast(
          subscribedTo(lap.sessionId),
          {
            type: 'lap_completed',
            session_id: lap.sessionId,
            lap: {
              lap_number: lap.lapNumber,
              lap_time: lap.lapTimeMs / 1000,
              sector_times: lap.sectorTimesMs.map((ms) => (ms === null ? null : ms / 1000)),
              valid: lap.valid,
              invalid_reasons: lap.invalidReasons,
              is_verified: lap.isVerified,
              estimated: lap.estimated,
            },
          },
          TELEMETRY_WS_PATH,
        );
      },
      SectorCompleted: async ({ data: split }) => {
        gateway.broadcast(
          subscribedTo(split.sessionId),
          { type: 'sector_completed', session_id: split.sessionId, lap_number: split.lapNumber, sector: split.sectorNumber, sector_time: split.sectorTimeMs / 1000 },
          TELEMETRY_WS_PATH,
        );
      },
    },
    // Before reading MBs of points, make sure someone on this process follows the session.
    { wantedStream: (streamId) => streamId.startsWith(SESSION_STREAM_PREFIX) && hasSubscribers(streamId.slice(SESSION_STREAM_PREFIX.length)) },
  );

  return defineWebSocketChannel({
    path: TELEMETRY_WS_PATH,
    clientMessage: TelemetryClientMessage,
    async onMessage(connection, message) {
      if (message.type === 'unsubscribe') {
        connection.topics.delete(message.session_id);
        connection.send({ type: 'unsubscribed', session_id: message.session_id });
        return;
      }
      // 404 NOT_FOUND for an unknown session, 403 FORBIDDEN for someone else's (as over HTTP).
      await requireOwnedTelemetrySession(services.db, message.session_id, connection.user.id);
      if (!connection.topics.has(message.session_id) && connection.topics.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
        throw new ValidationError(`At most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection; unsubscribe from one first`, {
          max_subscriptions: MAX_SUBSCRIPTIONS_PER_CONNECTION,
        });
      }
      connection.topics.add(message.session_id);
      connection.send({ type: 'subscribed', session_id: message.session_id });
    },
  });
}
