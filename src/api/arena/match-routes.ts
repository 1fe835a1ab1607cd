import { z } from 'zod';
import type { Request } from 'express';
import { requestMatch } from '../../commands/arena/match-commands';
import { matchRequestDeps } from '../../commands/arena/match-policy';
import { matchStreamId } from '../../domain/arena/match';
import { NotFoundError } from '../../domain/shared/errors';
import { REPLAYS_URL_PATH, type ArenaStorage } from '../../infrastructure/artifacts/arena-storage';
import { replayFileName, type ReplayFormat } from '../../infrastructure/artifacts/replay-store';
import { findAgent, iso, isoOrNull } from '../../projections/postgres/arena/agent-queries';
import { findMatch, listAgentMatches, listMatches, type AgentMatchRow, type MatchRow } from '../../projections/postgres/arena/match-queries';
import { matchesProjection } from '../../projections/postgres/arena/matches-projection';
import { defineRoute } from '../shared/route';
import type { ArenaRouteDeps } from './arena-route-support';
import {
  AgentIdParams,
  AgentMatchListResponse,
  CreatedMatchResponse,
  CreateMatchBody,
  IdParams,
  ListMatchesQuery,
  PageQuery,
  MatchListResponse,
  MatchResponse,
  ReplayQuery,
  ReplayUrlResponse,
} from './arena-schemas';

const replayPath = (matchId: string, format: ReplayFormat) => `${REPLAYS_URL_PATH}/${replayFileName(matchId, format)}`;

function result(row: AgentMatchRow, agentId: string): 'win' | 'loss' | 'draw' | null {
  if (row.status !== 'completed') return null;
  if (row.winner_id === null) return 'draw';
  return row.winner_id === agentId ? 'win' : 'loss';
}

function matchBody(row: MatchRow) {
  const hasReplay = row.status === 'completed';
  return {
    id: row.id,
    environment_id: row.environment_id,
    agent_1: { id: row.agent_1_id, name: row.agent_1_name, username: row.agent_1_username },
    agent_2: { id: row.agent_2_id, name: row.agent_2_name, username: row.agent_2_username },
    winner_id: row.winner_id,
    status: row.status,
    score_1: row.score_1,
    score_2: row.score_2,
    total_steps: row.total_steps,
    execution_time_sec: row.execution_time_sec,
    replay_json_url: hasReplay ? replayPath(row.id, 'json') : null,
    replay_html_url: hasReplay ? replayPath(row.id, 'html') : null,
    created_at: iso(row.created_at),
    completed_at: isoOrNull(row.completed_at),
  };
}

export function matchRoutes(deps: ArenaRouteDeps & { storage: ArenaStorage }) {
  const requireMatch = async (id: string): Promise<MatchRow> => {
    const row = await findMatch(deps.db, id);
    if (!row) throw new NotFoundError('Match not found');
    return row;
  };
  const requireCompleted = async (id: string): Promise<MatchRow> => {
    const row = await requireMatch(id);
    if (row.status !== 'completed') throw new NotFoundError(`No replay yet: the match is ${row.status}`, { status: row.status });
    return row;
  };
  /** Absolute URLs: PUBLIC_BASE_URL when configured, else the address this request came to. */
  const baseUrl = (req: Request) => (deps.config.PUBLIC_BASE_URL ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`).replace(/\/$/, '');

  return [
    defineRoute({
      method: 'post',
      path: '/matches',
      summary: "Create a match between two agents' active submissions",
      tags: ['matches'],
      waitFor: matchesProjection,
      auth: 'required',
      rateLimit: 'matches',
      request: { body: CreateMatchBody },
      responses: {
        201: { description: 'Queued', schema: CreatedMatchResponse },
        400: { description: 'Invalid agent ids or environment, or an agent without a built submission' },
        429: { description: 'Match creation rate limit, or an agent over its daily match quota or in its cooldown' },
      },
      handler: async (ctx) => {
        const { body, user } = ctx;
        const outcome = await requestMatch(ctx.command, matchRequestDeps(deps.config), {
          agent1Id: body.agent_1_id,
          agent2Id: body.agent_2_id,
          environmentId: body.environment_id,
          source: 'manual',
          requestedBy: user.id,
        });
        const requested = outcome.events[0]!.type === 'MatchRequested' ? outcome.events[0]!.data : undefined;
        if (!requested) throw new Error('match was not requested');
        return {
          status: 201,
          written: { streamId: matchStreamId(outcome.matchId), revision: outcome.revision },
          body: {
            id: outcome.matchId,
            environment_id: requested.environmentId,
            submission_1_id: requested.agent1.submissionId,
            submission_2_id: requested.agent2.submissionId,
            status: 'queued' as const,
            created_at: requested.requestedAt,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/matches',
      summary: 'List matches',
      tags: ['matches'],
      auth: 'none',
      request: { query: ListMatchesQuery },
      responses: { 200: { description: 'Matches, newest first', schema: MatchListResponse } },
      handler: async ({ query }) => {
        const { rows, total } = await listMatches(deps.db, { environment: query.environment, agentId: query.agent_id, status: query.status, limit: query.limit, offset: query.offset });
        return {
          status: 200,
          body: {
            matches: rows.map((row) => ({
              id: row.id,
              environment_id: row.environment_id,
              agent_1_name: row.agent_1_name,
              agent_2_name: row.agent_2_name,
              winner_id: row.winner_id,
              status: row.status,
              created_at: iso(row.created_at),
            })),
            total,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/matches/agent/:agentId',
      summary: "An agent's matches from its side (result, score, rating change)",
      tags: ['matches'],
      auth: 'none',
      request: { params: AgentIdParams, query: PageQuery },
      responses: { 200: { description: 'Matches, newest first', schema: AgentMatchListResponse }, 404: { description: 'Agent not found' } },
      handler: async ({ params, query }) => {
        if (!(await findAgent(deps.db, params.agentId))) throw new NotFoundError('Agent not found');
        const { rows, total } = await listAgentMatches(deps.db, params.agentId, query);
        return {
          status: 200,
          body: {
            matches: rows.map((row) => ({
              id: row.id,
              opponent_id: row.opponent_id,
              opponent_name: row.opponent_name,
              result: result(row, params.agentId),
              score: row.own_score === null || row.opponent_score === null ? null : `${row.own_score}-${row.opponent_score}`,
              elo_change: row.elo_change,
              created_at: iso(row.created_at),
            })),
            total,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/matches/:id',
      summary: 'A match and its result',
      tags: ['matches'],
      auth: 'none',
      request: { params: IdParams },
      responses: { 200: { description: 'The match', schema: MatchResponse }, 404: { description: 'Match not found' } },
      handler: async ({ params }) => ({ status: 200, body: matchBody(await requireMatch(params.id)) }),
    }),
    defineRoute({
      method: 'get',
      path: '/matches/:id/replay',
      summary: 'Download the replay (format=json or html)',
      tags: ['matches'],
      auth: 'none',
      request: { params: IdParams, query: ReplayQuery },
      responses: {
        200: {
          description: 'The replay: a JSON object (format=json), or a self-contained HTML page (format=html)',
          schema: z.record(z.string(), z.unknown()),
          alternatives: { 'text/html': undefined },
        },
        404: { description: 'Match not found, or not completed' },
      },
      handler: async ({ params, query, res }) => {
        await requireCompleted(params.id);
        const content = await deps.storage.replays.read(params.id, query.format);
        if (content === null) throw new NotFoundError('Replay file not found');
        res.status(200).type(query.format === 'json' ? 'application/json' : 'text/html; charset=utf-8').send(content);
        return 'handled';
      },
    }),
    defineRoute({
      method: 'get',
      path: '/matches/:id/replay-url',
      summary: 'Absolute URLs of the replay files',
      tags: ['matches'],
      auth: 'none',
      request: { params: IdParams },
      responses: { 200: { description: 'Replay URLs', schema: ReplayUrlResponse }, 404: { description: 'Match not found, or not completed' } },
      handler: async ({ params, req }) => {
        await requireCompleted(params.id);
        const base = baseUrl(req);
        return {
          status: 200,
          body: { match_id: params.id, replay_json_url: `${base}${replayPath(params.id, 'json')}`, replay_html_url: `${base}${replayPath(params.id, 'html')}` },
        };
      },
    }),
  ];
}
