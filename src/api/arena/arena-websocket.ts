import { z } from 'zod';
import { loadMatch } from '../../commands/arena/match-commands';
import type { SubmissionEvent } from '../../domain/arena/submission';
import type { RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { API_BASE_PATH } from '../shared/openapi/openapi-document';
import type { WebSocketDeps } from '../shared/websocket/websocket-deps';
import { defineWebSocketChannel, type ServerMessage } from '../shared/websocket/websocket-channel';

export const ARENA_WS_PATH = `${API_BASE_PATH}/ws`;

/** Clients need not send anything; a ping is answered, a subscribe acknowledged (pushes go to owners anyway). */
const ClientMessage = z.union([z.object({ type: z.literal('ping') }).strict(), z.object({ type: z.literal('subscribe') }).passthrough()]);

/**
 * `/api/v1/ws?token=...`: build and match events of the connected user's agents, as the RL-Arena
 * contract lists them. Fed by the bus (LiveEvents), so any API process serves its own sockets:
 * - build_status on every submission status change, to the submission's owner;
 * - match_created on MatchRequested, to the owners of both agents;
 * - match_completed on MatchRated (so it carries elo_changes), to the owners of both agents;
 * - match_failed (an extension) when a match could not be played.
 */
export function arenaWebSocketChannel({ services, live, gateway }: WebSocketDeps) {
  const toUsers = (userIds: string[], message: ServerMessage) => {
    const owners = new Set(userIds);
    gateway.broadcast((connection) => owners.has(connection.user.id), message, ARENA_WS_PATH);
  };

  const buildStatus = (event: RecordedEvent<SubmissionEvent>, status: string, timestamp: string, dockerImage: string | null = null) =>
    toUsers([event.data.ownerId], {
      type: 'build_status',
      submission_id: event.data.submissionId,
      status,
      docker_image: dockerImage,
      timestamp,
    });

  live.on(['submission'], {
    SubmissionReceived: async (event) => buildStatus(event, 'queued', event.data.receivedAt),
    RebuildRequested: async (event) => buildStatus(event, 'queued', event.data.requestedAt),
    BuildStarted: async (event) => buildStatus(event, 'building', event.data.startedAt),
    BuildSucceeded: async (event) => buildStatus(event, 'success', event.data.completedAt, event.data.environmentRef),
    BuildFailed: async (event) => buildStatus(event, 'failed', event.data.completedAt),
  });

  live.on(['match'], {
    MatchRequested: async ({ data }) =>
      toUsers([data.agent1.ownerId, data.agent2.ownerId], {
        type: 'match_created',
        match_id: data.matchId,
        agent_1_id: data.agent1.agentId,
        agent_2_id: data.agent2.agentId,
        timestamp: data.requestedAt,
      }),
    MatchFailed: async ({ data }) => {
      const match = await loadMatch(services, data.matchId);
      if (match.status === 'none') return;
      toUsers([match.agent1.ownerId, match.agent2.ownerId], { type: 'match_failed', match_id: match.matchId, error: data.reason, timestamp: data.failedAt });
    },
  });

  live.on(['ladder'], {
    MatchRated: async ({ data }) => {
      const match = await loadMatch(services, data.matchId);
      if (match.status === 'none') return;
      toUsers([match.agent1.ownerId, match.agent2.ownerId], {
        type: 'match_completed',
        match_id: match.matchId,
        winner_id: match.winnerId,
        elo_changes: { [data.agent1.agentId]: data.agent1.change, [data.agent2.agentId]: data.agent2.change },
        timestamp: data.ratedAt,
      });
    },
  });

  return defineWebSocketChannel({
    path: ARENA_WS_PATH,
    clientMessage: ClientMessage,
    onMessage: (connection, message) => {
      if (message.type === 'ping') connection.send({ type: 'pong', timestamp: services.now().toISOString() });
      else connection.send({ type: 'subscribed', timestamp: services.now().toISOString() });
    },
  });
}
