import { z } from 'zod';
import { loadMatch } from '../../commands/arena/match-commands';
import type { RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { API_BASE_PATH } from '../shared/openapi/openapi-document';
import type { WebSocketDeps } from '../shared/websocket/websocket-deps';
import { defineWebSocketChannel, type ServerMessage } from '../shared/websocket/websocket-channel';

export const ARENA_WS_PATH = `${API_BASE_PATH}/ws`;

/** Clients need not send anything; a ping is answered, a subscribe acknowledged (pushes go to owners anyway). */
const ClientMessage = z.union([z.object({ type: z.literal('ping') }).strict(), z.object({ type: z.literal('subscribe') }).passthrough()]);

const BUILD_STATUS: Record<string, { status: string; time: string }> = {
  SubmissionReceived: { status: 'queued', time: 'receivedAt' },
  RebuildRequested: { status: 'queued', time: 'requestedAt' },
  BuildStarted: { status: 'building', time: 'startedAt' },
  BuildSucceeded: { status: 'success', time: 'completedAt' },
  BuildFailed: { status: 'failed', time: 'completedAt' },
};

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * `/api/v1/ws?token=...`: build and match events of the connected user's agents, as the RL-Arena
 * contract lists them. Fed by the bus (LiveEvents), so any API process serves its own sockets:
 * - build_status on every submission status change, to the submission's owner;
 * - match_created on MatchRequested, to the owners of both agents;
 * - match_completed on MatchRated (so it carries elo_changes), to the owners of both agents;
 * - match_failed (an extension) when a match could not be played.
 */
export function arenaWebSocketChannel({ services, live, gateway }: WebSocketDeps) {
  const toUsers = (userIds: (string | null)[], message: ServerMessage) => {
    const owners = new Set(userIds.filter((id): id is string => id !== null));
    gateway.broadcast((connection) => owners.has(connection.user.id), message, ARENA_WS_PATH);
  };

  const onSubmissionEvent = (event: RecordedEvent) => {
    const change = BUILD_STATUS[event.type];
    if (!change) return;
    toUsers([text(event.data.ownerId)], {
      type: 'build_status',
      submission_id: text(event.data.submissionId),
      status: change.status,
      docker_image: event.type === 'BuildSucceeded' ? text(event.data.environmentRef) : null,
      timestamp: text(event.data[change.time]) ?? event.createdAt.toISOString(),
    });
  };

  const onMatchEvent = async (event: RecordedEvent) => {
    if (event.type === 'MatchRequested') {
      const agent1 = event.data.agent1 as { agentId?: string; ownerId?: string } | null;
      const agent2 = event.data.agent2 as { agentId?: string; ownerId?: string } | null;
      toUsers([text(agent1?.ownerId), text(agent2?.ownerId)], {
        type: 'match_created',
        match_id: text(event.data.matchId),
        agent_1_id: text(agent1?.agentId),
        agent_2_id: text(agent2?.agentId),
        timestamp: text(event.data.requestedAt) ?? event.createdAt.toISOString(),
      });
    } else if (event.type === 'MatchFailed') {
      const match = await loadMatch(services, String(event.data.matchId));
      if (match.status === 'none') return;
      toUsers([match.agent1.ownerId, match.agent2.ownerId], {
        type: 'match_failed',
        match_id: match.matchId,
        error: text(event.data.reason),
        timestamp: text(event.data.failedAt) ?? event.createdAt.toISOString(),
      });
    }
  };

  const onMatchRated = async (event: RecordedEvent) => {
    if (event.type !== 'MatchRated') return;
    const match = await loadMatch(services, String(event.data.matchId));
    if (match.status === 'none') return;
    const side = (value: unknown) => value as { agentId: string; change: number };
    const [agent1, agent2] = [side(event.data.agent1), side(event.data.agent2)];
    toUsers([match.agent1.ownerId, match.agent2.ownerId], {
      type: 'match_completed',
      match_id: match.matchId,
      winner_id: match.winnerId,
      elo_changes: { [agent1.agentId]: agent1.change, [agent2.agentId]: agent2.change },
      timestamp: text(event.data.ratedAt) ?? event.createdAt.toISOString(),
    });
  };

  live.on(['submission'], onSubmissionEvent);
  live.on(['match'], onMatchEvent);
  live.on(['ladder'], onMatchRated);

  return defineWebSocketChannel({
    path: ARENA_WS_PATH,
    clientMessage: ClientMessage,
    onMessage: (connection, message) => {
      if (message.type === 'ping') connection.send({ type: 'pong', timestamp: services.now().toISOString() });
      else connection.send({ type: 'subscribed', timestamp: services.now().toISOString() });
    },
  });
}
