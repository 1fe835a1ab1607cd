/**
 * The TrainingJob aggregate (stream `trainingjob-<id>`): a request to train a policy, claimed and
 * run by a training worker, which reports progress and ends it as completed, failed or cancelled.
 * A worker that disappears is noticed by a supervisor and the job is requeued (restarting from
 * timestep 0) or failed. Every command that comes from a worker names its run (`workerId`,
 * `attempt`): a run that was given up on cannot report into the next one.
 */
import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError, ForbiddenError, InvalidStateError, NotFoundError } from '../shared/errors';

export const TRAINING_JOB_CATEGORY = 'trainingjob';
export const trainingJobStreamId = (jobId: string): string => `${TRAINING_JOB_CATEGORY}-${jobId}`;

/** The contract's status values plus `cancelled`. A requeued job is `pending` again. */
export type TrainingJobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export const TRAINING_JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
/**
 * Who runs a job: the server's training worker (`built_in` trainer, or an `external` trainer
 * command configured on the server), or a `remote` trainer runner (`arena runner`) that claims
 * the job over the HTTP API on a lease.
 */
export type TrainingRunner = 'built_in' | 'external' | 'remote';

const JobRefSchema = z.object({ jobId: z.string() });
/** Identifies one run of a job: the worker running it and the attempt number (1, 2, ...). */
const RunRefSchema = JobRefSchema.extend({ workerId: z.string(), attempt: z.number() });

export const TrainingJobCreated = defineEvent('TrainingJobCreated', {
  data: JobRefSchema.extend({
    ownerId: z.string(),
    algorithm: z.string(),
    environment: z.string(),
    totalTimesteps: z.number(),
    /** Resolved: defaults filled in for SAC and DQN. */
    hyperparameters: z.record(z.string(), z.unknown()),
    environmentOptions: z.record(z.string(), z.number()),
    description: z.string().nullable(),
    runner: z.enum(['built_in', 'external', 'remote']) satisfies z.ZodType<TrainingRunner>,
    seed: z.number(),
    createdAt: z.string(),
  }),
});
export type TrainingJobCreated = EventOf<typeof TrainingJobCreated>;
/** A remote runner's claim: valid until `expiresAt`, renewed for `durationMs` by each report. */
const TrainingLeaseSchema = z.object({ durationMs: z.number(), expiresAt: z.string() });
export type TrainingLease = z.infer<typeof TrainingLeaseSchema>;
/** `lease` is set when a trainer runner claimed the job (ClaimTrainingLease); absent for server workers. */
export const TrainingStarted = defineEvent('TrainingStarted', {
  data: RunRefSchema.extend({ startedAt: z.string(), lease: TrainingLeaseSchema.optional() }),
});
export type TrainingStarted = EventOf<typeof TrainingStarted>;
export const TrainingProgressed = defineEvent('TrainingProgressed', {
  data: RunRefSchema.extend({
    timestep: z.number(),
    totalTimesteps: z.number(),
    episodeReward: z.number().nullable(),
    episodeLength: z.number().nullable(),
    fps: z.number(),
    loss: z.number().nullable(),
    progressPercentage: z.number(),
    /** Seconds, from the trainer's recent speed; null when it cannot be estimated. */
    estimatedTimeRemainingSec: z.number().nullable(),
    reportedAt: z.string(),
    /** Leased runs only: the renewed lease's end. */
    leaseExpiresAt: z.string().optional(),
  }),
});
export type TrainingProgressed = EventOf<typeof TrainingProgressed>;
/** Appended by a worker when it has had nothing else to report for a while: the run is alive. */
export const TrainingHeartbeat = defineEvent('TrainingHeartbeat', {
  data: RunRefSchema.extend({ reportedAt: z.string(), leaseExpiresAt: z.string().optional() }),
});
export type TrainingHeartbeat = EventOf<typeof TrainingHeartbeat>;
export const TrainingCancelRequested = defineEvent('TrainingCancelRequested', {
  data: JobRefSchema.extend({ requestedBy: z.string(), requestedAt: z.string() }),
});
export type TrainingCancelRequested = EventOf<typeof TrainingCancelRequested>;
export const TrainingCancelled = defineEvent('TrainingCancelled', {
  data: JobRefSchema.extend({ attempt: z.number(), timestep: z.number(), reason: z.string(), cancelledAt: z.string() }),
});
export type TrainingCancelled = EventOf<typeof TrainingCancelled>;
export const TrainingCompleted = defineEvent('TrainingCompleted', {
  data: RunRefSchema.extend({
    timestep: z.number(),
    /** Where the policy is in the artifact store. */
    artifactKey: z.string(),
    artifactSizeBytes: z.number(),
    meanReturn: z.number().nullable(),
    completedAt: z.string(),
  }),
});
export type TrainingCompleted = EventOf<typeof TrainingCompleted>;
export const TrainingFailed = defineEvent('TrainingFailed', {
  data: JobRefSchema.extend({ attempt: z.number(), reason: z.string(), failedAt: z.string() }),
});
export type TrainingFailed = EventOf<typeof TrainingFailed>;
/** The run was lost or its worker stopped; `attempt` is the number the next run will have. */
export const TrainingRequeued = defineEvent('TrainingRequeued', {
  data: JobRefSchema.extend({ attempt: z.number(), previousWorkerId: z.string(), reason: z.string(), requeuedAt: z.string() }),
});
export type TrainingRequeued = EventOf<typeof TrainingRequeued>;

export type TrainingJobEvent =
  | TrainingJobCreated
  | TrainingStarted
  | TrainingProgressed
  | TrainingHeartbeat
  | TrainingCancelRequested
  | TrainingCancelled
  | TrainingCompleted
  | TrainingFailed
  | TrainingRequeued;

export interface TrainingJobDetails {
  jobId: string;
  ownerId: string;
  algorithm: string;
  environment: string;
  totalTimesteps: number;
  runner: TrainingRunner;
  hyperparameters: Record<string, unknown>;
  environmentOptions: Record<string, number>;
  seed: number;
  /** The current (or last) run's attempt number; 0 before the first start. */
  attempt: number;
  workerId: string | null;
  /** When the current run last showed it is alive (start, progress, heartbeat). */
  lastActivityAt: string | null;
  cancelRequested: boolean;
  timestep: number;
  /** Set once completed: where the trained policy is in the artifact store. */
  artifactKey: string | null;
  /** The current run's lease when a trainer runner holds the job; null for server workers. */
  lease: TrainingLease | null;
}

export type TrainingJob = { status: 'none' } | ({ status: TrainingJobStatus } & TrainingJobDetails);

type RunCommand = { workerId: string; attempt: number; now: string };

export type TrainingJobCommand =
  | ({ type: 'CreateTrainingJob' } & Omit<TrainingJobCreated['data'], 'createdAt'> & { now: string })
  /** A worker claims the job; only a pending job can be claimed. */
  | { type: 'StartTraining'; workerId: string; now: string }
  /**
   * A trainer runner claims a `remote` job for `leaseDurationMs`: only its owner's runner, only
   * for an environment (and, when it names them, an algorithm) it serves. Every later report of
   * the run renews the lease.
   */
  | {
      type: 'ClaimTrainingLease';
      workerId: string;
      runnerOwnerId: string;
      environments: readonly string[];
      algorithms?: readonly string[];
      leaseDurationMs: number;
      now: string;
    }
  /** The supervisor's verdict on a leased run: requeued (or failed, or cancelled) once its lease has run out. */
  | { type: 'ExpireTrainingLease'; attempt: number; maxAttempts: number; now: string }
  | ({ type: 'RecordTrainingProgress' } & RunCommand &
      Pick<TrainingProgressed['data'], 'timestep' | 'episodeReward' | 'episodeLength' | 'fps' | 'loss' | 'estimatedTimeRemainingSec'>)
  | ({ type: 'RecordTrainingHeartbeat' } & RunCommand)
  | { type: 'RequestTrainingCancel'; userId: string; now: string }
  | ({ type: 'ConfirmTrainingCancelled'; timestep: number } & RunCommand)
  | ({ type: 'CompleteTraining' } & RunCommand & Pick<TrainingCompleted['data'], 'timestep' | 'artifactKey' | 'artifactSizeBytes' | 'meanReturn'>)
  | ({ type: 'FailTraining'; reason: string } & RunCommand)
  /** The worker stops (shutdown) and hands the job back: requeued whatever the attempt count. */
  | ({ type: 'ReleaseTraining'; reason: string } & RunCommand)
  /**
   * The supervisor's verdict on a run that showed no life since `staleBefore`: requeued, or
   * failed once `maxAttempts` runs were lost. Nothing happens if the run moved on meanwhile.
   */
  | { type: 'RequeueStaleTraining'; attempt: number; staleBefore: string; maxAttempts: number; reason: string; now: string };

export const initialTrainingJob = (): TrainingJob => ({ status: 'none' });

export function evolveTrainingJob(state: TrainingJob, event: TrainingJobEvent): TrainingJob {
  if (event.type === 'TrainingJobCreated') {
    const { jobId, ownerId, algorithm, environment, totalTimesteps, runner, hyperparameters, environmentOptions, seed } = event.data;
    return {
      status: 'pending',
      ...{ jobId, ownerId, algorithm, environment, totalTimesteps, runner, hyperparameters, environmentOptions, seed },
      attempt: 0,
      workerId: null,
      lastActivityAt: null,
      cancelRequested: false,
      timestep: 0,
      artifactKey: null,
      lease: null,
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'TrainingStarted':
      return {
        ...state,
        status: 'running',
        attempt: event.data.attempt,
        workerId: event.data.workerId,
        lastActivityAt: event.data.startedAt,
        timestep: 0,
        lease: event.data.lease ?? null,
      };
    case 'TrainingProgressed':
      return { ...state, timestep: event.data.timestep, lastActivityAt: event.data.reportedAt, lease: renewed(state.lease, event.data.leaseExpiresAt) };
    case 'TrainingHeartbeat':
      return { ...state, lastActivityAt: event.data.reportedAt, lease: renewed(state.lease, event.data.leaseExpiresAt) };
    case 'TrainingCancelRequested':
      return { ...state, cancelRequested: true };
    case 'TrainingCancelled':
      return { ...state, status: 'cancelled', timestep: event.data.timestep };
    case 'TrainingCompleted':
      return { ...state, status: 'completed', timestep: event.data.timestep, artifactKey: event.data.artifactKey };
    case 'TrainingFailed':
      return { ...state, status: 'failed' };
    case 'TrainingRequeued':
      return { ...state, status: 'pending', workerId: null, timestep: 0, lease: null };
  }
}

const renewed = (lease: TrainingLease | null, expiresAt: string | undefined): TrainingLease | null =>
  lease && expiresAt !== undefined ? { ...lease, expiresAt } : lease;

const addMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

const isFinished = (status: TrainingJobStatus): boolean => status === 'completed' || status === 'failed' || status === 'cancelled';

export const progressPercentage = (timestep: number, totalTimesteps: number): number =>
  Math.round(Math.min(100, Math.max(0, (timestep / totalTimesteps) * 100)) * 100) / 100;

/** A worker's report must be about the run in progress; anything else is from a run given up on. */
function requireCurrentRun(state: Extract<TrainingJob, { status: TrainingJobStatus }>, command: RunCommand): void {
  if (state.status !== 'running' || state.workerId !== command.workerId || state.attempt !== command.attempt) {
    throw new ConflictError(
      `training run ${command.attempt} of job ${state.jobId} on ${command.workerId} is no longer current (status ${state.status}, attempt ${state.attempt})`,
      { status: state.status, attempt: state.attempt },
    );
  }
  // A lease that ran out is lost even before the supervisor requeues the job: the runner must stop.
  if (state.lease !== null && state.lease.expiresAt <= command.now) {
    throw new ConflictError(`the lease of training run ${command.attempt} of job ${state.jobId} expired at ${state.lease.expiresAt}`, {
      status: state.status,
      attempt: state.attempt,
      leaseExpiresAt: state.lease.expiresAt,
    });
  }
}

/** The end of the lease renewed by a report at `now`, for leased runs only. */
const leaseRenewal = (state: TrainingJobDetails, now: string): { leaseExpiresAt?: string } =>
  state.lease === null ? {} : { leaseExpiresAt: addMs(now, state.lease.durationMs) };

export function decideTrainingJob(command: TrainingJobCommand, state: TrainingJob): TrainingJobEvent[] {
  if (command.type === 'CreateTrainingJob') {
    if (state.status !== 'none') throw new ConflictError('Training job already exists');
    const { type: _type, now, ...data } = command;
    void _type;
    return [{ type: 'TrainingJobCreated', data: { ...data, createdAt: now } }];
  }
  if (state.status === 'none') throw new NotFoundError('Training job not found');
  const { jobId } = state;
  switch (command.type) {
    case 'StartTraining':
      if (state.status !== 'pending') throw new InvalidStateError(`Training job is ${state.status}; only a pending job can be started`, { status: state.status });
      if (state.runner === 'remote') throw new InvalidStateError('Training job is served by trainer runners, not by server workers', { runner: state.runner });
      return [{ type: 'TrainingStarted', data: { jobId, workerId: command.workerId, attempt: state.attempt + 1, startedAt: command.now } }];
    case 'ClaimTrainingLease':
      if (state.ownerId !== command.runnerOwnerId) throw new ForbiddenError("A runner token serves only its owner's training jobs");
      if (state.runner !== 'remote') throw new InvalidStateError(`Training job runs on the server (${state.runner}), not on trainer runners`, { runner: state.runner });
      if (!command.environments.includes(state.environment)) {
        throw new InvalidStateError(`Training job needs ${state.environment}; this runner serves ${command.environments.join(', ') || 'nothing'}`, {
          environment: state.environment,
        });
      }
      if (command.algorithms !== undefined && !command.algorithms.some((name) => name.toLowerCase() === state.algorithm.toLowerCase())) {
        throw new InvalidStateError(`Training job needs ${state.algorithm}; this runner offers ${command.algorithms.join(', ')}`, { algorithm: state.algorithm });
      }
      if (state.status !== 'pending') throw new InvalidStateError(`Training job is ${state.status}; only a pending job can be claimed`, { status: state.status });
      return [
        {
          type: 'TrainingStarted',
          data: {
            jobId,
            workerId: command.workerId,
            attempt: state.attempt + 1,
            startedAt: command.now,
            lease: { durationMs: command.leaseDurationMs, expiresAt: addMs(command.now, command.leaseDurationMs) },
          },
        },
      ];
    case 'RecordTrainingProgress': {
      requireCurrentRun(state, command);
      const { workerId, attempt, timestep, episodeReward, episodeLength, fps, loss, estimatedTimeRemainingSec, now } = command;
      return [
        {
          type: 'TrainingProgressed',
          data: {
            ...{ jobId, workerId, attempt, timestep, totalTimesteps: state.totalTimesteps, episodeReward, episodeLength, fps, loss },
            progressPercentage: progressPercentage(timestep, state.totalTimesteps),
            estimatedTimeRemainingSec,
            reportedAt: now,
            ...leaseRenewal(state, now),
          },
        },
      ];
    }
    case 'RecordTrainingHeartbeat':
      requireCurrentRun(state, command);
      return [
        {
          type: 'TrainingHeartbeat',
          data: { jobId, workerId: command.workerId, attempt: command.attempt, reportedAt: command.now, ...leaseRenewal(state, command.now) },
        },
      ];
    case 'RequestTrainingCancel':
      if (state.ownerId !== command.userId) throw new ForbiddenError('Not the owner of this training job');
      if (isFinished(state.status)) throw new InvalidStateError(`Training job is already ${state.status}`, { status: state.status });
      if (state.status === 'pending') {
        return [{ type: 'TrainingCancelled', data: { jobId, attempt: state.attempt, timestep: 0, reason: 'cancelled by the owner before it started', cancelledAt: command.now } }];
      }
      if (state.cancelRequested) return [];
      return [{ type: 'TrainingCancelRequested', data: { jobId, requestedBy: command.userId, requestedAt: command.now } }];
    case 'ConfirmTrainingCancelled':
      requireCurrentRun(state, command);
      return [
        {
          type: 'TrainingCancelled',
          data: { jobId, attempt: command.attempt, timestep: command.timestep, reason: 'cancelled by the owner', cancelledAt: command.now },
        },
      ];
    case 'CompleteTraining': {
      requireCurrentRun(state, command);
      const { workerId, attempt, timestep, artifactKey, artifactSizeBytes, meanReturn, now } = command;
      return [{ type: 'TrainingCompleted', data: { jobId, workerId, attempt, timestep, artifactKey, artifactSizeBytes, meanReturn, completedAt: now } }];
    }
    case 'FailTraining':
      requireCurrentRun(state, command);
      return [{ type: 'TrainingFailed', data: { jobId, attempt: command.attempt, reason: command.reason, failedAt: command.now } }];
    case 'ReleaseTraining':
      requireCurrentRun(state, command);
      if (state.cancelRequested) {
        return [{ type: 'TrainingCancelled', data: { jobId, attempt: state.attempt, timestep: state.timestep, reason: 'cancelled by the owner', cancelledAt: command.now } }];
      }
      return [
        {
          type: 'TrainingRequeued',
          data: { jobId, attempt: state.attempt + 1, previousWorkerId: command.workerId, reason: command.reason, requeuedAt: command.now },
        },
      ];
    case 'RequeueStaleTraining':
      if (state.status !== 'running' || state.attempt !== command.attempt) return [];
      if (state.lease !== null) return []; // a leased run ends by its lease, not by the workers' stale limit
      if (state.lastActivityAt !== null && state.lastActivityAt > command.staleBefore) return [];
      return lostRun(state, command.reason, command.maxAttempts, command.now);
    case 'ExpireTrainingLease':
      if (state.status !== 'running' || state.attempt !== command.attempt || state.lease === null) return [];
      if (state.lease.expiresAt > command.now) return [];
      return lostRun(state, `runner lost: its lease expired at ${state.lease.expiresAt}`, command.maxAttempts, command.now);
  }
}

/** A run nobody is doing any more: requeued, failed after `maxAttempts` lost runs, or cancelled if a cancel was pending. */
function lostRun(state: TrainingJobDetails, reason: string, maxAttempts: number, now: string): TrainingJobEvent[] {
  const { jobId } = state;
  const lost = `${reason} (attempt ${state.attempt} on ${state.workerId ?? 'unknown worker'})`;
  if (state.cancelRequested) {
    return [{ type: 'TrainingCancelled', data: { jobId, attempt: state.attempt, timestep: state.timestep, reason: `cancelled by the owner; ${lost}`, cancelledAt: now } }];
  }
  if (state.attempt >= maxAttempts) {
    return [{ type: 'TrainingFailed', data: { jobId, attempt: state.attempt, reason: `${lost}; gave up after ${state.attempt} attempt(s)`, failedAt: now } }];
  }
  return [{ type: 'TrainingRequeued', data: { jobId, attempt: state.attempt + 1, previousWorkerId: state.workerId ?? '', reason: lost, requeuedAt: now } }];
}

export const trainingJobDecider: Decider<TrainingJobCommand, TrainingJob, TrainingJobEvent> = {
  initialState: initialTrainingJob,
  evolve: evolveTrainingJob,
  decide: decideTrainingJob,
};
