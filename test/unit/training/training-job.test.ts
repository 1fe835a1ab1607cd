import { ConflictError, ForbiddenError, InvalidStateError, NotFoundError } from '../../../src/domain/shared/errors';
import {
  progressPercentage,
  trainingJobDecider,
  type TrainingJobCommand,
  type TrainingJobEvent,
} from '../../../src/domain/training/training-job';
import { deciderSpec } from '../../support/decider-spec';

const spec = deciderSpec(trainingJobDecider);
const jobId = 'job-1';
const T0 = '2024-01-15T10:00:00.000Z';
const T1 = '2024-01-15T10:00:30.000Z';
const T2 = '2024-01-15T10:01:00.000Z';
const T3 = '2024-01-15T10:02:00.000Z';

const created: TrainingJobEvent = {
  type: 'TrainingJobCreated',
  data: {
    jobId,
    ownerId: 'owner',
    algorithm: 'SAC',
    environment: 'LapSim-v1',
    totalTimesteps: 10_000,
    hyperparameters: { learning_rate: 0.0003 },
    environmentOptions: {},
    description: null,
    runner: 'built_in',
    seed: 7,
    createdAt: T0,
  },
};
const started = (attempt = 1, workerId = 'w1', at = T1): TrainingJobEvent => ({ type: 'TrainingStarted', data: { jobId, workerId, attempt, startedAt: at } });
const cancelRequested: TrainingJobEvent = { type: 'TrainingCancelRequested', data: { jobId, requestedBy: 'owner', requestedAt: T2 } };
const run = (attempt = 1, workerId = 'w1') => ({ workerId, attempt, now: T2 });
const progress = (timestep: number, attempt = 1): TrainingJobCommand => ({
  type: 'RecordTrainingProgress',
  ...run(attempt),
  timestep,
  episodeReward: 1.5,
  episodeLength: 100,
  fps: 500,
  loss: 0.2,
  estimatedTimeRemainingSec: 12,
});
const stale = (attempt: number, maxAttempts = 3, staleBefore = T2): TrainingJobCommand => ({
  type: 'RequeueStaleTraining',
  attempt,
  staleBefore,
  maxAttempts,
  reason: 'worker lost',
  now: T3,
});

describe('TrainingJob decider', () => {
  it('creates a pending job once', () => {
    if (created.type !== 'TrainingJobCreated') throw new Error('fixture');
    const { createdAt, ...data } = created.data;
    const create: TrainingJobCommand = { type: 'CreateTrainingJob', ...data, now: createdAt };
    spec.given([]).when(create).then([created]);
    spec.given([created]).when(create).thenThrows(ConflictError);
  });

  it('lets a worker claim a pending (or requeued) job, never a claimed one', () => {
    spec.given([created]).when({ type: 'StartTraining', workerId: 'w1', now: T1 }).then([started()]);
    spec.given([created, started()]).when({ type: 'StartTraining', workerId: 'w2', now: T1 }).thenThrows(InvalidStateError, /running/);
    const requeued: TrainingJobEvent = { type: 'TrainingRequeued', data: { jobId, attempt: 2, previousWorkerId: 'w1', reason: 'lost', requeuedAt: T2 } };
    spec.given([created, started(), requeued]).when({ type: 'StartTraining', workerId: 'w2', now: T3 }).then([started(2, 'w2', T3)]);
    spec.given([]).when({ type: 'StartTraining', workerId: 'w1', now: T1 }).thenThrows(NotFoundError);
  });

  it('records progress of the current run with percentage and estimate', () => {
    spec
      .given([created, started()])
      .when(progress(4520))
      .then([
        {
          type: 'TrainingProgressed',
          data: {
            jobId,
            workerId: 'w1',
            attempt: 1,
            timestep: 4520,
            totalTimesteps: 10_000,
            episodeReward: 1.5,
            episodeLength: 100,
            fps: 500,
            loss: 0.2,
            progressPercentage: 45.2,
            estimatedTimeRemainingSec: 12,
            reportedAt: T2,
          },
        },
      ]);
    expect(progressPercentage(1, 3)).toBe(33.33);
    expect(progressPercentage(12, 10)).toBe(100);
  });

  it('refuses reports from a run that is no longer current', () => {
    spec.given([created]).when(progress(10)).thenThrows(ConflictError);
    spec.given([created, started(2)]).when(progress(10, 1)).thenThrows(ConflictError, /no longer current/);
    spec.given([created, started(1, 'w2')]).when(progress(10)).thenThrows(ConflictError);
    spec.given([created, started()]).when({ type: 'RecordTrainingHeartbeat', ...run() }).then([
      { type: 'TrainingHeartbeat', data: { jobId, workerId: 'w1', attempt: 1, reportedAt: T2 } },
    ]);
  });

  describe('cancel', () => {
    const cancel = (userId = 'owner'): TrainingJobCommand => ({ type: 'RequestTrainingCancel', userId, now: T2 });

    it('only the owner may cancel', () => {
      spec.given([created]).when(cancel('someone else')).thenThrows(ForbiddenError);
      spec.given([]).when(cancel()).thenThrows(NotFoundError);
    });

    it('cancels a pending job at once and asks the worker to stop a running one (once)', () => {
      spec.given([created]).when(cancel()).then([
        { type: 'TrainingCancelled', data: { jobId, attempt: 0, timestep: 0, reason: 'cancelled by the owner before it started', cancelledAt: T2 } },
      ]);
      spec.given([created, started()]).when(cancel()).then([cancelRequested]);
      spec.given([created, started(), cancelRequested]).when(cancel()).then([]);
      spec.given([created, started(), cancelRequested]).when({ type: 'ConfirmTrainingCancelled', ...run(), timestep: 300 }).then([
        { type: 'TrainingCancelled', data: { jobId, attempt: 1, timestep: 300, reason: 'cancelled by the owner', cancelledAt: T2 } },
      ]);
    });

    it('refuses to cancel a finished job', () => {
      const failed: TrainingJobEvent = { type: 'TrainingFailed', data: { jobId, attempt: 1, reason: 'boom', failedAt: T2 } };
      spec.given([created, started(), failed]).when(cancel()).thenThrows(InvalidStateError, /already failed/);
    });
  });

  it('completes with the artefact and fails with the reason', () => {
    spec
      .given([created, started()])
      .when({ type: 'CompleteTraining', ...run(), timestep: 10_000, artifactKey: 'sha256/ab', artifactSizeBytes: 10, meanReturn: 20.5 })
      .then([
        {
          type: 'TrainingCompleted',
          data: { jobId, workerId: 'w1', attempt: 1, timestep: 10_000, artifactKey: 'sha256/ab', artifactSizeBytes: 10, meanReturn: 20.5, completedAt: T2 },
        },
      ]);
    spec.given([created, started()]).when({ type: 'FailTraining', ...run(), reason: 'exit 1' }).then([
      { type: 'TrainingFailed', data: { jobId, attempt: 1, reason: 'exit 1', failedAt: T2 } },
    ]);
  });

  it('requeues a released job whatever the attempt count, or cancels it when a cancel is pending', () => {
    spec.given([created, started(5)]).when({ type: 'ReleaseTraining', ...run(5), reason: 'worker stopped' }).then([
      { type: 'TrainingRequeued', data: { jobId, attempt: 6, previousWorkerId: 'w1', reason: 'worker stopped', requeuedAt: T2 } },
    ]);
    spec.given([created, started(), cancelRequested]).when({ type: 'ReleaseTraining', ...run(), reason: 'worker stopped' }).then([
      { type: 'TrainingCancelled', data: { jobId, attempt: 1, timestep: 0, reason: 'cancelled by the owner', cancelledAt: T2 } },
    ]);
  });

  describe('stale runs (the supervisor)', () => {
    it('requeues a quiet run with the next attempt number, restarting from timestep 0', () => {
      spec.given([created, started(1, 'w1', T1)]).when(stale(1)).then([
        { type: 'TrainingRequeued', data: { jobId, attempt: 2, previousWorkerId: 'w1', reason: 'worker lost (attempt 1 on w1)', requeuedAt: T3 } },
      ]);
    });

    it('fails the job once maxAttempts runs were lost', () => {
      spec.given([created, started(3, 'w9', T1)]).when(stale(3, 3)).then([
        { type: 'TrainingFailed', data: { jobId, attempt: 3, reason: 'worker lost (attempt 3 on w9); gave up after 3 attempt(s)', failedAt: T3 } },
      ]);
    });

    it('leaves a run alone that showed life since, or that moved on, and cancels one whose cancel was pending', () => {
      const heartbeat: TrainingJobEvent = { type: 'TrainingHeartbeat', data: { jobId, workerId: 'w1', attempt: 1, reportedAt: T3 } };
      spec.given([created, started(), heartbeat]).when(stale(1)).then([]);
      spec.given([created, started(2)]).when(stale(1)).then([]);
      spec.given([created]).when(stale(1)).then([]);
      spec.given([created, started(), cancelRequested]).when(stale(1)).then([
        { type: 'TrainingCancelled', data: { jobId, attempt: 1, timestep: 0, reason: 'cancelled by the owner; worker lost (attempt 1 on w1)', cancelledAt: T3 } },
      ]);
    });
  });

  describe('trainer runner leases', () => {
    const remoteCreated: TrainingJobEvent = { ...created, data: { ...(created.data as Extract<TrainingJobEvent, { type: 'TrainingJobCreated' }>['data']), environment: 'AssettoCorsaEnv-v1', runner: 'remote' } };
    const RUNNER = 'runner:token-1:rig';
    const LEASE_MS = 30_000;
    const claim = (overrides: Partial<Extract<TrainingJobCommand, { type: 'ClaimTrainingLease' }>> = {}): TrainingJobCommand => ({
      type: 'ClaimTrainingLease',
      workerId: RUNNER,
      runnerOwnerId: 'owner',
      environments: ['AssettoCorsaEnv-v1'],
      leaseDurationMs: LEASE_MS,
      now: T1,
      ...overrides,
    });
    // T1 + 30 s = T2
    const leased = (attempt = 1): TrainingJobEvent => ({
      type: 'TrainingStarted',
      data: { jobId, workerId: RUNNER, attempt, startedAt: T1, lease: { durationMs: LEASE_MS, expiresAt: T2 } },
    });
    const runnerRun = { workerId: RUNNER, attempt: 1 };
    const T1_30 = '2024-01-15T10:00:45.000Z';
    const expire = (now: string, maxAttempts = 3): TrainingJobCommand => ({ type: 'ExpireTrainingLease', attempt: 1, maxAttempts, now });

    it("lets the owner's runner claim a pending remote job for an environment it serves, on a lease", () => {
      spec.given([remoteCreated]).when(claim()).then([leased()]);
    });

    it("refuses other owners' runners, other environments and algorithms, claimed jobs, and server workers", () => {
      spec.given([remoteCreated]).when(claim({ runnerOwnerId: 'someone' })).thenThrows(ForbiddenError);
      spec.given([remoteCreated]).when(claim({ environments: ['LapSim-v1'] })).thenThrows(InvalidStateError, /serves LapSim-v1/);
      spec.given([remoteCreated]).when(claim({ algorithms: ['PPO'] })).thenThrows(InvalidStateError, /offers PPO/);
      spec.given([remoteCreated]).when(claim({ algorithms: ['sac'] })).then([leased()]);
      spec.given([remoteCreated, leased()]).when(claim({ workerId: 'runner:token-1:other' })).thenThrows(InvalidStateError);
      spec.given([remoteCreated]).when({ type: 'StartTraining', workerId: 'w1', now: T1 }).thenThrows(InvalidStateError, /trainer runners/);
      spec.given([created]).when(claim()).thenThrows(InvalidStateError, /runs on the server/);
    });

    it('renews the lease with every report of the current run', () => {
      spec.given([remoteCreated, leased()]).when({ type: 'RecordTrainingHeartbeat', ...runnerRun, now: T1_30 }).then([
        { type: 'TrainingHeartbeat', data: { jobId, ...runnerRun, reportedAt: T1_30, leaseExpiresAt: '2024-01-15T10:01:15.000Z' } },
      ]);
      const renewed: TrainingJobEvent = { type: 'TrainingHeartbeat', data: { jobId, ...runnerRun, reportedAt: T1_30, leaseExpiresAt: '2024-01-15T10:01:15.000Z' } };
      // After the renewal, T2 is inside the lease.
      spec.given([remoteCreated, leased(), renewed]).when(expire(T2)).then([]);
    });

    it('refuses reports once the lease has run out, even before the supervisor requeues', () => {
      spec.given([remoteCreated, leased()]).when({ type: 'RecordTrainingHeartbeat', ...runnerRun, now: T2 }).thenThrows(ConflictError, /lease/);
      spec.given([remoteCreated, leased()]).when({ type: 'CompleteTraining', ...runnerRun, now: T3, timestep: 5, artifactKey: 'k', artifactSizeBytes: 1, meanReturn: null }).thenThrows(ConflictError);
    });

    it('requeues a run whose lease expired, fails it after maxAttempts, cancels it if a cancel was pending', () => {
      spec.given([remoteCreated, leased()]).when(expire(T1_30)).then([]);
      spec.given([remoteCreated, leased()]).when(expire(T2)).then([
        {
          type: 'TrainingRequeued',
          data: { jobId, attempt: 2, previousWorkerId: RUNNER, reason: `runner lost: its lease expired at ${T2} (attempt 1 on ${RUNNER})`, requeuedAt: T2 },
        },
      ]);
      spec.given([remoteCreated, leased()]).when(expire(T3, 1)).then([
        {
          type: 'TrainingFailed',
          data: { jobId, attempt: 1, reason: `runner lost: its lease expired at ${T2} (attempt 1 on ${RUNNER}); gave up after 1 attempt(s)`, failedAt: T3 },
        },
      ]);
      spec.given([remoteCreated, leased(), cancelRequested]).when(expire(T3)).then([
        {
          type: 'TrainingCancelled',
          data: { jobId, attempt: 1, timestep: 0, reason: `cancelled by the owner; runner lost: its lease expired at ${T2} (attempt 1 on ${RUNNER})`, cancelledAt: T3 },
        },
      ]);
    });

    it("does not apply the workers' stale limit to leased runs", () => {
      spec.given([remoteCreated, leased()]).when(stale(1, 3, T3)).then([]);
    });
  });
});
