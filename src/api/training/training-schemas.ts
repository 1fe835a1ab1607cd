import { z } from 'zod';
import { boundedInteger } from '../shared/query-integer';
import { MAX_TOTAL_TIMESTEPS } from '../../domain/training/catalog';
import { TRAINING_JOB_STATUSES } from '../../domain/training/training-job';

export const CreateTrainingJobBody = z.object({
  algorithm: z.string().trim().min(1).max(64).meta({ example: 'SAC' }),
  environment: z.string().trim().min(1).max(128).meta({ description: 'Built-in: LapSim-v1 (SAC), pong (DQN); others through configured external trainers', example: 'LapSim-v1' }),
  total_timesteps: z.number().int().min(1).max(MAX_TOTAL_TIMESTEPS),
  hyperparameters: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Stable-Baselines3 names; missing ones get the defaults, unknown ones are rejected (docs/training.md)'),
  description: z.string().trim().max(500).nullish(),
  seed: z.number().int().min(0).max(0xffffffff).optional().describe('Extension: makes the run reproducible; random when omitted'),
  environment_options: z
    .record(z.string(), z.number())
    .optional()
    .describe("Extension: environment settings, e.g. pong's target_score, max_steps, opponent_speed_fraction"),
});

export const JobParams = z.object({ job_id: z.uuid() });

export const ListTrainingJobsQuery = z.object({
  status: z.enum(TRAINING_JOB_STATUSES).optional(),
  algorithm: z.string().trim().min(1).max(64).optional().describe('Case-insensitive'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: boundedInteger(0).default(0),
});

export const ListTrainingMetricsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: boundedInteger(0).default(0),
  attempt: boundedInteger(1).optional().describe("Which run's metrics; default the job's current (last) run"),
});

export const ArenaSubmissionBody = z.object({ agent_id: z.uuid() });

const nullableNumber = z.number().nullable();

export const TrainingJobResponse = z.object({
  id: z.uuid(),
  algorithm: z.string(),
  environment: z.string(),
  status: z.enum(TRAINING_JOB_STATUSES),
  progress_percentage: z.number(),
  current_timestep: z.number().int(),
  total_timesteps: z.number().int(),
  created_at: z.string(),
  description: z.string().nullable(),
  hyperparameters: z.record(z.string(), z.unknown()),
  environment_options: z.record(z.string(), z.number()),
  seed: z.number().int(),
  runner: z.enum(['built_in', 'external', 'remote']).describe('remote: run by a trainer runner (`arena runner`) that claimed the job'),
  attempt: z.number().int().describe('Runs started so far; a requeued job restarts from timestep 0'),
  cancel_requested: z.boolean(),
  estimated_time_remaining: nullableNumber.describe('Seconds'),
  episode_reward: nullableNumber,
  episode_length: nullableNumber,
  fps: nullableNumber,
  loss: nullableNumber,
  mean_return: nullableNumber.describe('Deterministic policy, evaluation episodes after training'),
  status_reason: z.string().nullable().describe('Why the job failed, was cancelled or last requeued; `waiting_for_runner` for a pending remote job'),
  artifact_available: z.boolean(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  last_heartbeat_at: z.string().nullable(),
});

export const CreatedTrainingJobResponse = TrainingJobResponse.pick({
  id: true,
  algorithm: true,
  environment: true,
  status: true,
  total_timesteps: true,
  created_at: true,
});

export const ListTrainingJobsResponse = z.object({
  jobs: z.array(TrainingJobResponse),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const TrainingMetricsResponse = z.object({
  job_id: z.uuid(),
  attempt: z.number().int(),
  metrics: z.array(
    z.object({
      timestep: z.number().int(),
      episode_reward: nullableNumber,
      episode_length: nullableNumber,
      fps: z.number(),
      loss: nullableNumber,
      progress_percentage: z.number(),
      recorded_at: z.string(),
    }),
  ),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const ArenaSubmissionResponse = z.object({
  id: z.uuid(),
  agent_id: z.uuid(),
  version: z.string(),
  status: z.literal('queued'),
  training_job_id: z.uuid(),
  created_at: z.string(),
});
