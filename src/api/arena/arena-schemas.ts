import { z } from 'zod';
import { boundedInteger } from '../shared/query-integer';
import { agentDescriptionSchema, agentNameSchema } from '../../domain/arena/agent';

/** Query strings arrive as text: numbers are coerced, defaults are the contract's. */
const limit = (defaultValue: number, max: number) => boundedInteger(1, max).default(defaultValue);
const offset = boundedInteger(0).default(0);
const timestamp = z.string().meta({ example: '2024-01-15T10:30:00.000Z' });
const nullableTimestamp = timestamp.nullable();

export const IdParams = z.object({ id: z.uuid() });
export const AgentIdParams = z.object({ agentId: z.uuid() });
export const EnvironmentParams = z.object({ envId: z.string().min(1).max(64) });

// ---- agents ----

export const ListAgentsQuery = z.object({
  environment: z.string().min(1).max(64).optional(),
  limit: limit(50, 200),
  offset,
});

export const CreateAgentBody = z.object({
  name: agentNameSchema,
  environment_id: z.string().trim().min(1).max(64),
  description: agentDescriptionSchema.optional(),
});

export const UpdateAgentBody = z
  .object({ name: agentNameSchema.optional(), description: agentDescriptionSchema.nullable().optional() })
  .refine((body) => body.name !== undefined || body.description !== undefined, {
    message: 'nothing to update: give name or description',
    path: ['name'],
  });

const AgentSummary = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  username: z.string().nullable(),
  name: z.string(),
  environment_id: z.string(),
  elo_rating: z.number().int(),
  total_matches: z.number().int(),
  wins: z.number().int(),
  losses: z.number().int(),
  active_submission_id: z.uuid().nullable(),
  created_at: timestamp,
});

export const AgentListResponse = z.object({
  agents: z.array(AgentSummary),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const AgentDetailResponse = AgentSummary.extend({
  description: z.string().nullable(),
  draws: z.number().int(),
  updated_at: timestamp,
});

export const CreatedAgentResponse = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  name: z.string(),
  environment_id: z.string(),
  description: z.string().nullable(),
  elo_rating: z.number().int(),
  total_matches: z.number().int(),
  created_at: timestamp,
});

export const UpdatedAgentResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  updated_at: timestamp,
});

export const AgentStatsResponse = z.object({
  agent_id: z.uuid(),
  elo_rating: z.number().int(),
  total_matches: z.number().int(),
  wins: z.number().int(),
  losses: z.number().int(),
  draws: z.number().int(),
  win_rate: z.number().describe('Percent of matches won, one decimal'),
  last_match_at: nullableTimestamp,
  matches_today: z.number().int(),
  can_match: z.boolean(),
  next_match_available_at: nullableTimestamp,
  opponent_stats: z.array(
    z.object({
      opponent_id: z.uuid(),
      opponent_name: z.string().nullable(),
      matches_played: z.number().int(),
      wins: z.number().int(),
      losses: z.number().int(),
    }),
  ),
});

// ---- submissions ----

const SubmissionStatus = z.enum(['queued', 'building', 'success', 'failed']);

export const CreatedSubmissionResponse = z.object({
  id: z.uuid(),
  agent_id: z.uuid(),
  version: z.string().meta({ example: '1.0.2' }),
  status: SubmissionStatus,
  code_path: z.string().describe('Storage location of the archive (content-addressed); not served over HTTP'),
  created_at: timestamp,
});

export const SubmissionResponse = z.object({
  id: z.uuid(),
  agent_id: z.uuid(),
  version: z.string(),
  status: SubmissionStatus,
  docker_image: z.string().nullable().describe('The built environment (a virtualenv reference, `venv:builds/<id>/venv`); null until built'),
  build_started_at: nullableTimestamp,
  build_completed_at: nullableTimestamp,
  created_at: timestamp,
});

export const BuildStatusResponse = z.object({
  submission_id: z.uuid(),
  status: SubmissionStatus,
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed']),
  docker_image: z.string().nullable(),
  started_at: nullableTimestamp,
  estimated_completion: nullableTimestamp,
});

export const BuildLogsResponse = z.object({ submission_id: z.uuid(), logs: z.string() });

export const RebuildResponse = z.object({ id: z.uuid(), status: z.literal('queued'), message: z.string() });

/** The contract's pagination of per-agent lists: limit 20, offset 0. */
export const PageQuery = z.object({ limit: limit(20, 200), offset });

export const SubmissionListResponse = z.object({
  submissions: z.array(z.object({ id: z.uuid(), version: z.string(), status: SubmissionStatus, is_active: z.boolean(), created_at: timestamp })),
  total: z.number().int(),
});

// ---- matches ----

const MatchStatus = z.enum(['queued', 'running', 'completed', 'failed']);

export const CreateMatchBody = z.object({
  agent_1_id: z.uuid(),
  agent_2_id: z.uuid(),
  environment_id: z.string().trim().min(1).max(64),
});

export const CreatedMatchResponse = z.object({
  id: z.uuid(),
  environment_id: z.string(),
  submission_1_id: z.uuid(),
  submission_2_id: z.uuid(),
  status: MatchStatus,
  created_at: timestamp,
});

const MatchAgent = z.object({ id: z.uuid(), name: z.string().nullable(), username: z.string().nullable() });

export const MatchResponse = z.object({
  id: z.uuid(),
  environment_id: z.string(),
  agent_1: MatchAgent,
  agent_2: MatchAgent,
  winner_id: z.uuid().nullable(),
  status: MatchStatus,
  score_1: z.number().int().nullable(),
  score_2: z.number().int().nullable(),
  total_steps: z.number().int().nullable(),
  execution_time_sec: z.number().nullable(),
  replay_json_url: z.string().nullable(),
  replay_html_url: z.string().nullable(),
  created_at: timestamp,
  completed_at: nullableTimestamp,
});

export const ListMatchesQuery = z.object({
  environment: z.string().min(1).max(64).optional(),
  agent_id: z.uuid().optional(),
  status: MatchStatus.optional(),
  limit: limit(20, 200),
  offset,
});

export const MatchListResponse = z.object({
  matches: z.array(
    z.object({
      id: z.uuid(),
      environment_id: z.string(),
      agent_1_name: z.string().nullable(),
      agent_2_name: z.string().nullable(),
      winner_id: z.uuid().nullable(),
      status: MatchStatus,
      created_at: timestamp,
    }),
  ),
  total: z.number().int(),
});

export const ReplayQuery = z.object({ format: z.enum(['json', 'html']) });

export const ReplayUrlResponse = z.object({ match_id: z.uuid(), replay_json_url: z.string(), replay_html_url: z.string() });

export const AgentMatchListResponse = z.object({
  matches: z.array(
    z.object({
      id: z.uuid(),
      opponent_id: z.uuid(),
      opponent_name: z.string().nullable(),
      result: z.enum(['win', 'loss', 'draw']).nullable().describe('null until the match completed'),
      score: z.string().nullable().meta({ example: '21-18' }),
      elo_change: z.number().int().nullable(),
      created_at: timestamp,
    }),
  ),
  total: z.number().int(),
});

// ---- leaderboard ----

export const LeaderboardQuery = z.object({
  environment: z.string().min(1).max(64).optional(),
  limit: limit(100, 500),
  offset,
});
export const EnvironmentLeaderboardQuery = LeaderboardQuery.omit({ environment: true });

export const LeaderboardResponse = z.object({
  leaderboard: z.array(
    z.object({
      rank: z.number().int(),
      agent_id: z.uuid(),
      agent_name: z.string(),
      username: z.string().nullable(),
      elo_rating: z.number().int(),
      total_matches: z.number().int(),
      wins: z.number().int(),
      losses: z.number().int(),
      win_rate: z.number(),
    }),
  ),
  total: z.number().int(),
  updated_at: nullableTimestamp,
});
