import { createAgent, deleteAgent, updateAgent } from '../../commands/arena/agent-commands';
import { agentAvailability } from '../../commands/arena/match-policy';
import { agentStreamId } from '../../domain/arena/agent';
import { INITIAL_RATING } from '../../domain/arena/elo';
import { NotFoundError } from '../../domain/shared/errors';
import { agentMatchLoad, findAgent, iso, isoOrNull, listAgents, opponentStats, type AgentRow } from '../../projections/postgres/arena/agent-queries';
import { agentsProjection } from '../../projections/postgres/arena/agents-projection';
import { winRate } from '../../projections/postgres/arena/leaderboard-queries';
import { defineRoute } from '../shared/route';
import type { ArenaRouteDeps } from './arena-route-support';
import {
  AgentDetailResponse,
  AgentListResponse,
  AgentStatsResponse,
  CreateAgentBody,
  CreatedAgentResponse,
  IdParams,
  ListAgentsQuery,
  UpdateAgentBody,
  UpdatedAgentResponse,
} from './arena-schemas';

function agentSummary(row: AgentRow) {
  return {
    id: row.id,
    user_id: row.user_id,
    username: row.username,
    name: row.name,
    environment_id: row.environment_id,
    elo_rating: row.elo_rating,
    total_matches: row.total_matches,
    wins: row.wins,
    losses: row.losses,
    active_submission_id: row.active_submission_id,
    created_at: iso(row.created_at),
  };
}

export function agentRoutes(deps: ArenaRouteDeps) {
  const requireAgent = async (agentId: string): Promise<AgentRow> => {
    const row = await findAgent(deps.db, agentId);
    if (!row) throw new NotFoundError('Agent not found');
    return row;
  };

  return [
    defineRoute({
      method: 'get',
      path: '/agents',
      summary: 'List agents',
      tags: ['agents'],
      auth: 'none',
      request: { query: ListAgentsQuery },
      responses: { 200: { description: 'Agents, newest first', schema: AgentListResponse } },
      handler: async ({ query }) => {
        const { rows, total } = await listAgents(deps.db, query);
        return { status: 200, body: { agents: rows.map(agentSummary), total, limit: query.limit, offset: query.offset } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/agents/:id',
      summary: 'Get an agent',
      tags: ['agents'],
      auth: 'none',
      request: { params: IdParams },
      responses: { 200: { description: 'The agent', schema: AgentDetailResponse }, 404: { description: 'Agent not found' } },
      handler: async ({ params }) => {
        const row = await requireAgent(params.id);
        return { status: 200, body: { ...agentSummary(row), description: row.description, draws: row.draws, updated_at: iso(row.updated_at) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/agents/:id/stats',
      summary: "An agent's match statistics, opponents and match availability",
      tags: ['agents'],
      auth: 'none',
      request: { params: IdParams },
      responses: { 200: { description: 'Statistics', schema: AgentStatsResponse }, 404: { description: 'Agent not found' } },
      handler: async ({ params }) => {
        const row = await requireAgent(params.id);
        const now = deps.now();
        const [load, availability, opponents] = await Promise.all([
          agentMatchLoad(deps.db, row.id, now),
          agentAvailability((agentId, at) => agentMatchLoad(deps.db, agentId, at), deps.config, row.id, now),
          opponentStats(deps.db, row.id),
        ]);
        return {
          status: 200,
          body: {
            agent_id: row.id,
            elo_rating: row.elo_rating,
            total_matches: row.total_matches,
            wins: row.wins,
            losses: row.losses,
            draws: row.draws,
            win_rate: winRate(row.wins, row.total_matches),
            last_match_at: isoOrNull(row.last_match_at),
            matches_today: load.matchesToday,
            can_match: availability.canMatch,
            next_match_available_at: availability.nextMatchAvailableAt,
            opponent_stats: opponents,
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/agents',
      summary: 'Create an agent',
      tags: ['agents'],
      waitFor: agentsProjection,
      auth: 'required',
      request: { body: CreateAgentBody },
      responses: {
        201: { description: 'Created; rating starts at 1200. Built from the appended event, so it holds even while the read model lags', schema: CreatedAgentResponse },
        409: { description: 'Agent name already exists for this user' },
      },
      handler: async (ctx) => {
        const { body, user } = ctx;
        const outcome = await createAgent(ctx.command, {
          ownerId: user.id,
          name: body.name,
          description: body.description ?? null,
          environmentId: body.environment_id,
        });
        // From the appended event, not the read model: a lagging projection (or a bus outage) must
        // not turn "created" into "not found".
        const created = outcome.events.find((event) => event.type === 'AgentCreated');
        if (created?.type !== 'AgentCreated') throw new Error('agent was not created');
        return {
          status: 201,
          written: { streamId: agentStreamId(outcome.agentId), revision: outcome.revision },
          body: {
            id: created.data.agentId,
            user_id: created.data.ownerId,
            name: created.data.name,
            environment_id: created.data.environmentId,
            description: created.data.description,
            elo_rating: INITIAL_RATING,
            total_matches: 0,
            created_at: iso(created.data.createdAt),
          },
        };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/agents/:id',
      summary: 'Update an agent (owner only)',
      tags: ['agents'],
      waitFor: agentsProjection,
      auth: 'required',
      request: { params: IdParams, body: UpdateAgentBody },
      responses: {
        200: { description: 'The updated agent', schema: UpdatedAgentResponse },
        403: { description: 'Not the owner' },
        404: { description: 'Agent not found' },
        409: { description: 'Agent name already exists for this user' },
      },
      handler: async (ctx) => {
        const { params, body, user } = ctx;
        const outcome = await updateAgent(ctx.command, { agentId: params.id, userId: user.id, name: body.name, description: body.description });
        const caughtUp = await ctx.caughtUp({ streamId: agentStreamId(params.id), revision: outcome.revision });
        const updated = outcome.events.find((event) => event.type === 'AgentUpdated');
        if (!caughtUp && outcome.state.status === 'active') {
          // The read model is behind: answer with the state the command produced.
          const updatedAt = updated?.type === 'AgentUpdated' ? updated.data.updatedAt : outcome.state.createdAt;
          return { status: 200, body: { id: params.id, name: outcome.state.name, description: outcome.state.description, updated_at: iso(updatedAt) } };
        }
        const row = await requireAgent(params.id);
        return { status: 200, body: { id: row.id, name: row.name, description: row.description, updated_at: iso(row.updated_at) } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/agents/:id',
      summary: 'Delete an agent (owner only)',
      tags: ['agents'],
      waitFor: agentsProjection,
      auth: 'required',
      request: { params: IdParams },
      responses: { 204: { description: 'Deleted' }, 403: { description: 'Not the owner' }, 404: { description: 'Agent not found' } },
      handler: async (ctx) => {
        const outcome = await deleteAgent(ctx.command, { agentId: ctx.params.id, userId: ctx.user.id });
        return { status: 204, written: { streamId: agentStreamId(ctx.params.id), revision: outcome.revision } };
      },
    }),
  ];
}
