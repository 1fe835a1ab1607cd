/**
 * The wire format of the trainer runner routes (docs/training.md, "Trainer runners"): the API
 * validates requests and documents answers with these schemas, and `arena runner`'s client parses
 * the answers with the same ones, so the two cannot drift apart. The examples are what
 * `arena runner` sends and receives.
 */
import { z } from 'zod';
import { TRAINING_JOB_STATUSES } from '../domain/training/training-job';

const JOB_ID_EXAMPLE = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const TOKEN_ID_EXAMPLE = '3f2b8c1e-5a4d-4e6f-9b7a-1c2d3e4f5a6b';

export const IssueRunnerTokenBody = z
  .object({ name: z.string().trim().min(1).max(100).default('runner').describe('A label for you, e.g. the machine it runs on') })
  .meta({ example: { name: 'sim-rig' } });

export const RunnerTokenResponse = z
  .object({
    id: z.uuid(),
    name: z.string(),
    token: z.string().describe('Shown once: pass it to `arena runner --token`. Only its hash is stored.'),
    scope: z.literal('training_runner').describe('Accepted only by the /training/runners routes, for your own jobs'),
    created_at: z.string(),
  })
  .meta({
    example: {
      id: TOKEN_ID_EXAMPLE,
      name: 'sim-rig',
      token: `lxrt_${TOKEN_ID_EXAMPLE}.q3Jz0Vb3cQm0mE1x7fQkq2mS9d8rLr1oX4kq0tGQn3E`,
      scope: 'training_runner',
      created_at: '2024-01-15T10:00:00.000Z',
    },
  });

export const RunnerTokenParams = z.object({ token_id: z.uuid() });

/** The runner's own name for itself; with the token it names the run in the job's events. */
const runnerId = z
  .string()
  .regex(/^[A-Za-z0-9_.:@/-]{1,100}$/, 'letters, digits and _ . : @ / - (1-100 characters)')
  .describe('The runner instance, e.g. host/pid; unique among the runners of one token');

export const ClaimTrainingJobBody = z
  .object({
    runner_id: runnerId,
    environments: z.array(z.string().trim().min(1).max(128)).min(1).max(50).describe('Environments this runner can train'),
    algorithms: z.array(z.string().trim().min(1).max(64)).min(1).max(50).optional().describe('Algorithms its trainers offer (case-insensitive); any when omitted'),
    wait_sec: z.number().int().min(0).max(30).default(0).describe('Long poll: wait up to this long for a job before answering 204'),
  })
  .meta({ example: { runner_id: 'sim-rig/4242', environments: ['AssettoCorsaEnv-v1'], algorithms: ['SAC'], wait_sec: 20 } });

export const ClaimedTrainingJobResponse = z
  .object({
    job: z.object({
      id: z.uuid(),
      algorithm: z.string(),
      environment: z.string(),
      total_timesteps: z.number().int(),
      hyperparameters: z.record(z.string(), z.unknown()),
      environment_options: z.record(z.string(), z.number()),
      seed: z.number().int(),
    }),
    run: z.object({
      runner_id: z.string(),
      attempt: z.number().int(),
      lease_expires_at: z.string(),
      lease_duration_sec: z.number().positive(),
      heartbeat_interval_sec: z.number().positive().describe('Report (progress or heartbeat) at least this often, or the lease runs out'),
    }),
  })
  .meta({
    example: {
      job: {
        id: JOB_ID_EXAMPLE,
        algorithm: 'SAC',
        environment: 'AssettoCorsaEnv-v1',
        total_timesteps: 1000000,
        hyperparameters: { learning_rate: 0.0003, buffer_size: 1000000, batch_size: 256 },
        environment_options: {},
        seed: 1234,
      },
      run: { runner_id: 'sim-rig/4242', attempt: 1, lease_expires_at: '2024-01-15T10:01:00.000Z', lease_duration_sec: 60, heartbeat_interval_sec: 20 },
    },
  });

export const RunnerJobParams = z.object({ job_id: z.uuid() });

const runRef = { runner_id: runnerId, attempt: z.number().int().min(1) };

export const RunnerHeartbeatBody = z.object(runRef).meta({ example: { runner_id: 'sim-rig/4242', attempt: 1 } });

export const RunnerProgressBody = z
  .object({
    ...runRef,
    timestep: z.number().int().min(0),
    episode_reward: z.number().nullable().default(null),
    episode_length: z.number().nullable().default(null),
    fps: z.number().min(0),
    loss: z.number().nullable().default(null),
    estimated_time_remaining: z.number().min(0).nullable().default(null).describe('Seconds'),
  })
  .meta({
    example: { runner_id: 'sim-rig/4242', attempt: 1, timestep: 452000, episode_reward: 245.5, episode_length: 500, fps: 120, loss: 0.05, estimated_time_remaining: 3600 },
  });

export const RunnerCompleteQuery = z.object({
  runner_id: runnerId,
  attempt: z.coerce.number().int().min(1),
  timestep: z.coerce.number().int().min(0),
  mean_return: z.coerce.number().optional().describe('Mean return of the evaluation after training'),
});

export const RunnerFailBody = z.object({ ...runRef, reason: z.string().trim().min(1).max(4000) }).meta({
  example: { runner_id: 'sim-rig/4242', attempt: 1, reason: 'the simulator closed' },
});
export const RunnerCancelledBody = z.object({ ...runRef, timestep: z.number().int().min(0) }).meta({
  example: { runner_id: 'sim-rig/4242', attempt: 1, timestep: 4000 },
});
export const RunnerReleaseBody = z.object({ ...runRef, reason: z.string().trim().min(1).max(500).default('the runner stopped') }).meta({
  example: { runner_id: 'sim-rig/4242', attempt: 1, reason: 'the runner stopped' },
});

export const RunnerRunStateResponse = z
  .object({
    job_id: z.uuid(),
    status: z.enum(TRAINING_JOB_STATUSES),
    attempt: z.number().int(),
    cancel_requested: z.boolean().describe('The owner asked to cancel: stop the trainer and report /cancelled'),
    lease_expires_at: z.string().nullable(),
  })
  .meta({ example: { job_id: JOB_ID_EXAMPLE, status: 'running', attempt: 1, cancel_requested: false, lease_expires_at: '2024-01-15T10:01:20.000Z' } });

export const ArtifactUploadBody = z.string().meta({ format: 'binary', description: 'The trained policy file, as the trainer wrote it' });
