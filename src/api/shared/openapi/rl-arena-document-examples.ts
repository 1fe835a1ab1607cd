/** The RL-Arena API document's examples (agents, submissions, matches, leaderboard). */
import { rlArenaExample as rlArena, type OperationExamples } from './document-example-types';

const ARENA_AGENT = {
  id: '123e4567-e89b-12d3-a456-426614174000',
  user_id: '550e8400-e29b-41d4-a716-446655440000',
  username: 'myusername',
  name: 'SmartPongAgent',
  environment_id: 'pong',
  elo_rating: 1450,
  total_matches: 25,
  wins: 15,
  losses: 10,
};
const LEADERBOARD = {
  leaderboard: [
    { rank: 1, agent_id: '123e4567-e89b-12d3-a456-426614174000', agent_name: 'SmartPongAgent', username: 'user1', elo_rating: 1650, total_matches: 50, wins: 35, losses: 15, win_rate: 70.0 },
    { rank: 2, agent_id: '456e7890-e89b-12d3-a456-426614174222', agent_name: 'RivalAgent', username: 'user2', elo_rating: 1520, total_matches: 40, wins: 25, losses: 15, win_rate: 62.5 },
  ],
  total: 2,
  updated_at: '2024-01-20T17:30:00Z',
};

export const RL_ARENA_DOCUMENT_EXAMPLES: Record<string, OperationExamples> = {
  // ---- RL-Arena: agents, submissions, matches, leaderboard ----
  'GET /agents': {
    responses: {
      200: [
        rlArena({
          agents: [{ ...ARENA_AGENT, active_submission_id: '789e0123-e89b-12d3-a456-426614174111', created_at: '2024-01-15T10:30:00Z' }],
          total: 1,
          limit: 50,
          offset: 0,
        }),
      ],
    },
  },
  'GET /agents/{id}': {
    responses: {
      200: [
        rlArena({
          ...ARENA_AGENT,
          draws: 0,
          active_submission_id: '789e0123-e89b-12d3-a456-426614174111',
          created_at: '2024-01-15T10:30:00Z',
          updated_at: '2024-01-20T15:45:00Z',
        }),
      ],
    },
  },
  'GET /agents/{id}/stats': {
    responses: {
      200: [
        rlArena({
          agent_id: '123e4567-e89b-12d3-a456-426614174000',
          elo_rating: 1450,
          total_matches: 25,
          wins: 15,
          losses: 10,
          draws: 0,
          win_rate: 60.0,
          last_match_at: '2024-01-20T15:30:00Z',
          matches_today: 12,
          can_match: true,
          next_match_available_at: null,
          opponent_stats: [{ opponent_id: '456e7890-e89b-12d3-a456-426614174222', opponent_name: 'RivalAgent', matches_played: 5, wins: 3, losses: 2 }],
        }),
      ],
    },
  },
  'POST /agents': {
    request: [rlArena({ name: 'MyNewAgent', environment_id: 'pong', description: 'A reinforcement learning agent for Pong' })],
    responses: {
      201: [
        rlArena({
          id: '123e4567-e89b-12d3-a456-426614174000',
          user_id: '550e8400-e29b-41d4-a716-446655440000',
          name: 'MyNewAgent',
          environment_id: 'pong',
          elo_rating: 1200,
          total_matches: 0,
          created_at: '2024-01-15T10:30:00Z',
        }),
      ],
    },
  },
  'PUT /agents/{id}': {
    request: [rlArena({ name: 'UpdatedAgentName', description: 'New description' })],
    responses: {
      200: [rlArena({ id: '123e4567-e89b-12d3-a456-426614174000', name: 'UpdatedAgentName', description: 'New description', updated_at: '2024-01-20T15:45:00Z' })],
    },
  },
  'POST /submissions': {
    responses: {
      201: [
        rlArena({
          id: '789e0123-e89b-12d3-a456-426614174111',
          agent_id: '123e4567-e89b-12d3-a456-426614174000',
          version: '1.0.2',
          status: 'queued',
          code_path: '/storage/submissions/789e0123.zip',
          created_at: '2024-01-20T16:00:00Z',
        }),
      ],
    },
  },
  'GET /submissions/{id}': {
    responses: {
      200: [
        rlArena({
          id: '789e0123-e89b-12d3-a456-426614174111',
          agent_id: '123e4567-e89b-12d3-a456-426614174000',
          version: '1.0.2',
          status: 'success',
          docker_image: 'registry.example.com/agents/789e0123:latest',
          build_started_at: '2024-01-20T16:00:05Z',
          build_completed_at: '2024-01-20T16:03:15Z',
          created_at: '2024-01-20T16:00:00Z',
        }),
      ],
    },
  },
  'GET /submissions/{id}/build-status': {
    responses: {
      200: [
        rlArena({
          submission_id: '789e0123-e89b-12d3-a456-426614174111',
          status: 'building',
          phase: 'Running',
          docker_image: null,
          started_at: '2024-01-20T16:00:05Z',
          estimated_completion: '2024-01-20T16:05:00Z',
        }),
      ],
    },
  },
  'GET /submissions/{id}/build-logs': {
    responses: {
      200: [
        rlArena({
          submission_id: '789e0123-e89b-12d3-a456-426614174111',
          logs: 'Step 1/5 : FROM python:3.10-slim\n ---> abc123def456\nStep 2/5 : COPY requirements.txt .\n...',
        }),
      ],
    },
  },
  'POST /submissions/{id}/rebuild': {
    responses: { 200: [rlArena({ id: '789e0123-e89b-12d3-a456-426614174111', status: 'queued', message: 'Rebuild queued successfully' })] },
  },
  'GET /submissions/agent/{agentId}': {
    responses: {
      200: [rlArena({ submissions: [{ id: '789e0123-e89b-12d3-a456-426614174111', version: '1.0.2', status: 'success', is_active: true, created_at: '2024-01-20T16:00:00Z' }], total: 1 })],
    },
  },
  'POST /matches': {
    request: [rlArena({ agent_1_id: '123e4567-e89b-12d3-a456-426614174000', agent_2_id: '456e7890-e89b-12d3-a456-426614174222', environment_id: 'pong' })],
    responses: {
      201: [
        rlArena({
          id: 'match-abc123-def456',
          environment_id: 'pong',
          submission_1_id: '789e0123-e89b-12d3-a456-426614174111',
          submission_2_id: '789e0456-e89b-12d3-a456-426614174222',
          status: 'queued',
          created_at: '2024-01-20T17:00:00Z',
        }),
      ],
    },
  },
  'GET /matches/{id}': {
    responses: {
      200: [
        rlArena({
          id: 'match-abc123-def456',
          environment_id: 'pong',
          agent_1: { id: '123e4567-e89b-12d3-a456-426614174000', name: 'SmartPongAgent', username: 'user1' },
          agent_2: { id: '456e7890-e89b-12d3-a456-426614174222', name: 'RivalAgent', username: 'user2' },
          winner_id: '123e4567-e89b-12d3-a456-426614174000',
          status: 'completed',
          score_1: 21,
          score_2: 18,
          total_steps: 1500,
          execution_time_sec: 45.2,
          replay_json_url: '/storage/replays/match-abc123.json',
          replay_html_url: '/storage/replays/match-abc123.html',
          created_at: '2024-01-20T17:00:00Z',
          completed_at: '2024-01-20T17:01:30Z',
        }),
      ],
    },
  },
  'GET /matches': {
    responses: {
      200: [
        rlArena({
          matches: [
            {
              id: 'match-abc123-def456',
              environment_id: 'pong',
              agent_1_name: 'SmartPongAgent',
              agent_2_name: 'RivalAgent',
              winner_id: '123e4567-e89b-12d3-a456-426614174000',
              status: 'completed',
              created_at: '2024-01-20T17:00:00Z',
            },
          ],
          total: 1,
        }),
      ],
    },
  },
  'GET /matches/{id}/replay': {
    responses: {
      200: [
        rlArena({
          match_id: 'match-abc123-def456',
          environment: 'pong',
          total_steps: 1500,
          winner: 'agent_1',
          frames: [{ step: 0, observation: [0.5, 0.5, 0.0, 0.5], action_1: 1, action_2: 0, reward_1: 0.0, reward_2: 0.0 }],
        }),
      ],
    },
  },
  'GET /matches/{id}/replay-url': {
    responses: {
      200: [
        rlArena({
          match_id: 'match-abc123-def456',
          replay_json_url: 'http://localhost:8080/storage/replays/match-abc123.json',
          replay_html_url: 'http://localhost:8080/storage/replays/match-abc123.html',
        }),
      ],
    },
  },
  'GET /matches/agent/{agentId}': {
    responses: {
      200: [
        rlArena({
          matches: [
            {
              id: 'match-abc123-def456',
              opponent_id: '456e7890-e89b-12d3-a456-426614174222',
              opponent_name: 'RivalAgent',
              result: 'win',
              score: '21-18',
              elo_change: 15,
              created_at: '2024-01-20T17:00:00Z',
            },
          ],
          total: 1,
        }),
      ],
    },
  },
  'GET /leaderboard': { responses: { 200: [rlArena(LEADERBOARD)] } },
};
