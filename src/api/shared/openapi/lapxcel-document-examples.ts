/** The LapXcel API document's examples, and the identity routes' examples of both documents. */
import { lapxcelExample as lapxcel, rlArenaExample as rlArena, type OperationExamples } from './document-example-types';

const LAPXCEL_TOKENS = {
  access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...',
  token_type: 'bearer',
  expires_in: 3600,
  refresh_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...',
};
const ARENA_USER = { id: '550e8400-e29b-41d4-a716-446655440000', username: 'myusername', email: 'user@example.com' };

export const LAPXCEL_DOCUMENT_EXAMPLES: Record<string, OperationExamples> = {
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

};
