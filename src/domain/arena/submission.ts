import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError, ForbiddenError, InvalidStateError, NotFoundError } from '../shared/errors';

export const submissionStreamId = (submissionId: string): string => `submission-${submissionId}`;

/** The contract's status values. */
export type SubmissionStatus = 'queued' | 'building' | 'success' | 'failed';

/** Every event names the agent and its owner, so consumers (WebSocket pushes, activation) need no lookup. */
const SubmissionRefSchema = z.object({ submissionId: z.string(), agentId: z.string(), ownerId: z.string() });
type SubmissionRef = z.infer<typeof SubmissionRefSchema>;

export const SubmissionReceived = defineEvent('SubmissionReceived', {
  data: SubmissionRefSchema.extend({
    environmentId: z.string(),
    sequence: z.number(),
    version: z.string(),
    /** sha256 of the archive, hex. */
    contentHash: z.string(),
    /** Where the archive is in the artifact store. */
    artifactKey: z.string(),
    sizeBytes: z.number(),
    receivedAt: z.string(),
  }),
});
export type SubmissionReceived = EventOf<typeof SubmissionReceived>;
export const BuildStarted = defineEvent('BuildStarted', { data: SubmissionRefSchema.extend({ attempt: z.number(), startedAt: z.string() }) });
export type BuildStarted = EventOf<typeof BuildStarted>;
export const BuildSucceeded = defineEvent('BuildSucceeded', {
  data: SubmissionRefSchema.extend({
    attempt: z.number(),
    /** The built environment's reference (the contract's `docker_image`), e.g. `venv:builds/<id>`. */
    environmentRef: z.string(),
    /** Where the extracted agent and its interpreter are on the build machine. */
    agentDir: z.string(),
    pythonExecutable: z.string(),
    /** The end of the build log (capped). */
    log: z.string(),
    completedAt: z.string(),
  }),
});
export type BuildSucceeded = EventOf<typeof BuildSucceeded>;
export const BuildFailed = defineEvent('BuildFailed', {
  data: SubmissionRefSchema.extend({ attempt: z.number(), reason: z.string(), log: z.string(), completedAt: z.string() }),
});
export type BuildFailed = EventOf<typeof BuildFailed>;
export const RebuildRequested = defineEvent('RebuildRequested', {
  data: SubmissionRefSchema.extend({ requestedBy: z.string(), requestedAt: z.string() }),
});
export type RebuildRequested = EventOf<typeof RebuildRequested>;
export type SubmissionEvent = SubmissionReceived | BuildStarted | BuildSucceeded | BuildFailed | RebuildRequested;

export type Submission =
  | { status: 'none' }
  | (SubmissionRef & {
      status: SubmissionStatus;
      environmentId: string;
      version: string;
      artifactKey: string;
      attempt: number;
      build: { agentDir: string; pythonExecutable: string; environmentRef: string } | null;
    });

export type SubmissionCommand =
  | ({ type: 'ReceiveSubmission' } & Omit<SubmissionReceived['data'], 'receivedAt'> & { now: string })
  /** From queued, or again from building when a worker died mid-build (the redelivered message). */
  | { type: 'StartBuild'; now: string }
  | { type: 'SucceedBuild'; attempt: number; environmentRef: string; agentDir: string; pythonExecutable: string; log: string; now: string }
  | { type: 'FailBuild'; attempt: number; reason: string; log: string; now: string }
  | { type: 'RequestRebuild'; userId: string; now: string };

export const initialSubmission = (): Submission => ({ status: 'none' });

export function evolveSubmission(state: Submission, event: SubmissionEvent): Submission {
  if (event.type === 'SubmissionReceived') {
    const { submissionId, agentId, ownerId, environmentId, version, artifactKey } = event.data;
    return { status: 'queued', submissionId, agentId, ownerId, environmentId, version, artifactKey, attempt: 0, build: null };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'BuildStarted':
      return { ...state, status: 'building', attempt: event.data.attempt };
    case 'BuildSucceeded': {
      const { agentDir, pythonExecutable, environmentRef } = event.data;
      return { ...state, status: 'success', build: { agentDir, pythonExecutable, environmentRef } };
    }
    case 'BuildFailed':
      return { ...state, status: 'failed', build: null };
    case 'RebuildRequested':
      return { ...state, status: 'queued', build: null };
  }
}

export function decideSubmission(command: SubmissionCommand, state: Submission): SubmissionEvent[] {
  if (command.type === 'ReceiveSubmission') {
    if (state.status !== 'none') throw new ConflictError('Submission already exists');
    const { type: _type, now, ...data } = command;
    void _type;
    return [{ type: 'SubmissionReceived', data: { ...data, receivedAt: now } }];
  }
  if (state.status === 'none') throw new NotFoundError('Submission not found');
  const ref: SubmissionRef = { submissionId: state.submissionId, agentId: state.agentId, ownerId: state.ownerId };
  switch (command.type) {
    case 'StartBuild':
      if (state.status === 'success' || state.status === 'failed') return [];
      return [{ type: 'BuildStarted', data: { ...ref, attempt: state.attempt + 1, startedAt: command.now } }];
    case 'SucceedBuild': {
      // A stale attempt (another worker restarted the build meanwhile) or a repeated report changes nothing.
      if (state.status !== 'building' || state.attempt !== command.attempt) return [];
      const { attempt, environmentRef, agentDir, pythonExecutable, log, now } = command;
      return [{ type: 'BuildSucceeded', data: { ...ref, attempt, environmentRef, agentDir, pythonExecutable, log, completedAt: now } }];
    }
    case 'FailBuild': {
      if (state.status !== 'building' || state.attempt !== command.attempt) return [];
      const { attempt, reason, log, now } = command;
      return [{ type: 'BuildFailed', data: { ...ref, attempt, reason, log, completedAt: now } }];
    }
    case 'RequestRebuild':
      if (state.ownerId !== command.userId) throw new ForbiddenError('Not the owner of this submission');
      if (state.status !== 'failed') {
        throw new InvalidStateError(`Submission not in failed state (status: ${state.status}); only failed builds can be rebuilt`, { status: state.status });
      }
      return [{ type: 'RebuildRequested', data: { ...ref, requestedBy: command.userId, requestedAt: command.now } }];
  }
}

export const submissionDecider: Decider<SubmissionCommand, Submission, SubmissionEvent> = {
  initialState: initialSubmission,
  evolve: evolveSubmission,
  decide: decideSubmission,
};
