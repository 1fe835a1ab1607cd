/**
 * The request and response examples of the two API documents (`lapxcel-api.md`, `rl-arena-api.md`),
 * keyed by operation ("POST /auth/login") and by `request` or response status. They reach the
 * OpenAPI document as named media-type examples, so Swagger UI offers what each document shows.
 * Values are the documents' own; the one thing changed is `"elo_change": +15`, which is not JSON.
 * A test (test/e2e/openapi-statuses.test.ts) checks that each request example passes the route's
 * schema and that each response example names only fields the route's schema has.
 */

export type ContractName = 'lapxcel' | 'rl-arena';

export interface DocumentExample {
  contract: ContractName;
  value: unknown;
}

export interface OperationExamples {
  request?: DocumentExample[];
  responses?: Record<number, DocumentExample[]>;
}

export const CONTRACT_TITLES: Record<ContractName, string> = {
  lapxcel: 'LapXcel API document',
  'rl-arena': 'RL-Arena API document',
};

const lapxcel = (value: unknown): DocumentExample => ({ contract: 'lapxcel', value });
const rlArena = (value: unknown): DocumentExample => ({ contract: 'rl-arena', value });

const LAPXCEL_TOKENS = {
  access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...',
  token_type: 'bearer',
  expires_in: 3600,
  refresh_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...',
};
const ARENA_USER = { id: '550e8400-e29b-41d4-a716-446655440000', username: 'myusername', email: 'user@example.com' };
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

export const DOCUMENT_EXAMPLES: Record<string, OperationExamples> = {
  // ---- identity (both documents) ----
  'POST /auth/register': {
    request: [
      lapxcel({ email: 'user@example.com', username: 'racing_pro', password: 'SecurePass123', full_name: 'John Doe' }),
      rlArena({ username: 'myusername', email: 'user@example.com', password: 'securepassword123' }),
    ],
    responses: {
      201: [
        lapxcel(LAPXCEL_TOKENS),
        rlArena({ token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...', user: { ...ARENA_USER, created_at: '2024-01-15T10:30:00Z' } }),
      ],
    },
  },
  'POST /auth/login': {
    request: [lapxcel({ email: 'user@example.com', password: 'SecurePass123' }), rlArena({ username: 'myusername', password: 'securepassword123' })],
    responses: { 200: [lapxcel(LAPXCEL_TOKENS), rlArena({ token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...', user: ARENA_USER })] },
  },
  'GET /auth/me': {
    responses: {
      200: [
        lapxcel({
          id: '123e4567-e89b-12d3-a456-426614174000',
          email: 'user@example.com',
          username: 'racing_pro',
          full_name: 'John Doe',
          is_active: true,
          is_admin: false,
          created_at: '2024-01-01T00:00:00Z',
          last_login: '2024-01-15T10:30:00Z',
        }),
      ],
    },
  },
  'GET /users/me': {
    responses: { 200: [rlArena({ ...ARENA_USER, created_at: '2024-01-15T10:30:00Z', stats: { total_agents: 3, total_matches: 75, total_wins: 45 } })] },
  },
  'PUT /users/me': {
    request: [rlArena({ email: 'newemail@example.com' })],
    responses: { 200: [rlArena({ id: ARENA_USER.id, username: 'myusername', email: 'newemail@example.com', updated_at: '2024-01-20T18:00:00Z' })] },
  },

  // ---- LapXcel: telemetry, analytics, training ----
  'GET /telemetry/sessions': {
    responses: {
      200: [
        lapxcel({
          sessions: [
            {
              id: '550e8400-e29b-41d4-a716-446655440000',
              session_name: 'Monza Practice',
              track_name: 'Monza',
              car_model: 'Ferrari 488 GT3',
              total_laps: 15,
              best_lap_time: 85.234,
              session_start: '2024-01-15T14:30:00Z',
              is_complete: true,
            },
          ],
          total: 42,
          limit: 50,
          offset: 0,
        }),
      ],
    },
  },
  'POST /telemetry/sessions': {
    request: [
      lapxcel({ session_name: 'Monza Practice', track_name: 'Monza', car_model: 'Ferrari 488 GT3', weather_conditions: 'Clear', track_temperature: 25.5, air_temperature: 20.0 }),
    ],
    responses: {
      201: [lapxcel({ id: '550e8400-e29b-41d4-a716-446655440000', session_name: 'Monza Practice', track_name: 'Monza', car_model: 'Ferrari 488 GT3', created_at: '2024-01-15T14:30:00Z' })],
    },
  },
  'POST /telemetry/sessions/{session_id}/data': {
    request: [
      lapxcel({
        data_points: [{ timestamp: '2024-01-15T14:30:05Z', speed_kmh: 245.5, throttle_input: 1.0, brake_input: 0.0, steering_input: 0.15, gear: 6, rpm: 7500 }],
      }),
    ],
    responses: { 201: [lapxcel({ message: 'Telemetry data uploaded successfully', points_created: 1234 })] },
  },
  'GET /analytics/performance/overview': {
    responses: {
      200: [
        lapxcel({
          status: 'success',
          data: {
            total_sessions: 42,
            total_laps: 630,
            best_lap_time: 85.234,
            average_lap_time: 87.543,
            consistency_score: 87.5,
            improvement_trend: 'improving',
            tracks_driven: 5,
            cars_used: 3,
          },
        }),
      ],
    },
  },
  'GET /analytics/consistency': {
    responses: {
      200: [
        lapxcel({
          status: 'success',
          data: {
            consistency_score: 87.5,
            total_laps_analyzed: 150,
            lap_time_statistics: { mean: 87.543, std_deviation: 0.345, best: 85.234, worst: 89.123 },
            sector_consistency: {
              sector_1: { score: 88.2, mean: 28.5 },
              sector_2: { score: 86.8, mean: 35.2 },
              sector_3: { score: 87.5, mean: 23.8 },
            },
          },
        }),
      ],
    },
  },
  'POST /analytics/compare/sessions': {
    request: [
      lapxcel({ primary_session_id: '550e8400-e29b-41d4-a716-446655440000', secondary_session_id: '6fa459ea-ee8a-3ca4-894e-db77e160355e', comparison_type: 'detailed' }),
    ],
    responses: {
      200: [
        lapxcel({
          status: 'success',
          data: {
            overall_score: 15.5,
            lap_time_delta: -0.523,
            consistency_delta: 2.3,
            efficiency_delta: 1.8,
            significance: 'high',
            recommendations: ['Improve braking consistency in sector 2', 'Optimize racing line in turn 3'],
          },
        }),
      ],
    },
  },
  'GET /analytics/leaderboard': {
    responses: {
      200: [
        lapxcel({
          status: 'success',
          data: {
            track: 'Monza',
            car: 'Ferrari 488 GT3',
            category: 'overall',
            entries: [
              { rank: 1, user_id: '123e4567-e89b-12d3-a456-426614174000', time: 85.234, consistency_score: 92.5, record_date: '2024-01-15T14:30:00Z', is_verified: true },
            ],
          },
        }),
      ],
    },
  },
  'GET /training/jobs': {
    responses: {
      200: [
        lapxcel({
          jobs: [
            {
              id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
              algorithm: 'SAC',
              environment: 'AssettoCorsaEnv-v1',
              status: 'running',
              progress_percentage: 45.2,
              current_timestep: 452000,
              total_timesteps: 1000000,
              created_at: '2024-01-15T10:00:00Z',
            },
          ],
        }),
      ],
    },
  },
  'POST /training/jobs': {
    request: [
      lapxcel({
        algorithm: 'SAC',
        environment: 'AssettoCorsaEnv-v1',
        total_timesteps: 1000000,
        hyperparameters: { learning_rate: 0.0003, buffer_size: 1000000, batch_size: 256 },
        description: 'SAC training on Monza',
      }),
    ],
    responses: { 201: [lapxcel({ id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', algorithm: 'SAC', status: 'pending', created_at: '2024-01-15T10:00:00Z' })] },
  },
  'GET /training/jobs/{job_id}/metrics': {
    responses: {
      200: [
        lapxcel({
          job_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
          metrics: [{ timestep: 100000, episode_reward: 245.5, episode_length: 500, fps: 120, loss: 0.05 }],
        }),
      ],
    },
  },

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

/** The error body of each document (ours is a superset of both). */
export const ERROR_BODY_EXAMPLES: DocumentExample[] = [
  lapxcel({ detail: 'Error message description', status_code: 400, error_type: 'ValidationError' }),
  rlArena({ error: 'Error message', code: 'ERROR_CODE', details: { field: 'Additional error context' } }),
];

/** OpenAPI's named media-type examples: `{ "rl-arena": { summary, value } }`, numbered when one document has several. */
export function namedExamples(examples: readonly DocumentExample[]): Record<string, { summary: string; value: unknown }> {
  const named: Record<string, { summary: string; value: unknown }> = {};
  for (const example of examples) {
    let name: string = example.contract;
    for (let n = 2; name in named; n += 1) name = `${example.contract}-${n}`;
    named[name] = { summary: CONTRACT_TITLES[example.contract], value: example.value };
  }
  return named;
}
