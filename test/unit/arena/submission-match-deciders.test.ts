import { matchDecider, type MatchEvent } from '../../../src/domain/arena/match';
import { submissionDecider, type SubmissionEvent } from '../../../src/domain/arena/submission';
import { ConflictError, ForbiddenError, InvalidStateError, NotFoundError, ValidationError } from '../../../src/domain/shared/errors';
import { deciderSpec } from '../../support/decider-spec';

const at = '2026-03-01T10:00:00.000Z';
const ref = { submissionId: 'S1', agentId: 'A1', ownerId: 'U1' };

describe('Submission decider', () => {
  const spec = deciderSpec(submissionDecider);
  const received: SubmissionEvent = {
    type: 'SubmissionReceived',
    data: { ...ref, environmentId: 'pong', sequence: 1, version: '1.0.1', contentHash: 'ab', artifactKey: 'sha256/ab', sizeBytes: 10, receivedAt: at },
  };
  const started = (attempt: number): SubmissionEvent => ({ type: 'BuildStarted', data: { ...ref, attempt, startedAt: at } });
  const build = { agentDir: '/b/S1/agent', pythonExecutable: '/b/S1/venv/bin/python3', environmentRef: 'venv:builds/S1/venv' };
  const succeeded = (attempt: number): SubmissionEvent => ({ type: 'BuildSucceeded', data: { ...ref, attempt, ...build, log: 'ok', completedAt: at } });
  const failed = (attempt: number): SubmissionEvent => ({ type: 'BuildFailed', data: { ...ref, attempt, reason: 'no Agent', log: 'log', completedAt: at } });
  const rebuild: SubmissionEvent = { type: 'RebuildRequested', data: { ...ref, requestedBy: 'U1', requestedAt: at } };

  it('is received once', () => {
    const { type: _t, data } = received;
    void _t;
    const { receivedAt: _r, ...fields } = data as Extract<SubmissionEvent, { type: 'SubmissionReceived' }>['data'];
    void _r;
    spec.given([]).when({ type: 'ReceiveSubmission', ...fields, now: at }).then([received]);
    spec.given([received]).when({ type: 'ReceiveSubmission', ...fields, now: at }).thenThrows(ConflictError);
  });

  it('starts a build from queued, and again from building (a worker died); never once built or failed', () => {
    spec.given([received]).when({ type: 'StartBuild', now: at }).then([started(1)]);
    spec.given([received, started(1)]).when({ type: 'StartBuild', now: at }).then([started(2)]);
    spec.given([received, started(1), succeeded(1)]).when({ type: 'StartBuild', now: at }).then([]);
    spec.given([received, started(1), failed(1)]).when({ type: 'StartBuild', now: at }).then([]);
    spec.given([]).when({ type: 'StartBuild', now: at }).thenThrows(NotFoundError);
  });

  it('records the outcome of the current attempt only, once', () => {
    spec.given([received, started(1)]).when({ type: 'SucceedBuild', attempt: 1, ...build, log: 'ok', now: at }).then([succeeded(1)]);
    spec.given([received, started(1), started(2)]).when({ type: 'SucceedBuild', attempt: 1, ...build, log: 'ok', now: at }).then([]);
    spec.given([received, started(1), succeeded(1)]).when({ type: 'SucceedBuild', attempt: 1, ...build, log: 'ok', now: at }).then([]);
    spec.given([received, started(1)]).when({ type: 'FailBuild', attempt: 1, reason: 'no Agent', log: 'log', now: at }).then([failed(1)]);
  });

  it('rebuilds only a failed build, only for its owner', () => {
    spec.given([received, started(1), failed(1)]).when({ type: 'RequestRebuild', userId: 'U1', now: at }).then([rebuild]);
    spec.given([received, started(1), failed(1)]).when({ type: 'RequestRebuild', userId: 'U2', now: at }).thenThrows(ForbiddenError);
    for (const history of [[received], [received, started(1)], [received, started(1), succeeded(1)]]) {
      spec.given(history).when({ type: 'RequestRebuild', userId: 'U1', now: at }).thenThrows(InvalidStateError, /not in failed state/);
    }
    // After a rebuild request the build starts again with the next attempt.
    spec.given([received, started(1), failed(1), rebuild]).when({ type: 'StartBuild', now: at }).then([started(2)]);
  });
});

describe('Match decider', () => {
  const spec = deciderSpec(matchDecider);
  const agent1 = { agentId: 'A1', submissionId: 'S1', ownerId: 'U1' };
  const agent2 = { agentId: 'A2', submissionId: 'S2', ownerId: 'U2' };
  const request = { matchId: 'M1', environmentId: 'pong', environmentOptions: { targetScore: 3 }, seed: 7, agent1, agent2, source: 'manual' as const, requestedBy: 'U1' };
  const requested: MatchEvent = { type: 'MatchRequested', data: { ...request, requestedAt: at } };
  const started: MatchEvent = { type: 'MatchStarted', data: { matchId: 'M1', startedAt: at } };
  const result = { winner: 'agent_2' as const, score1: 1, score2: 3, totalSteps: 500, executionTimeSec: 1.5, forfeits: [], replayJsonKey: 'M1.json', replayHtmlKey: 'M1.html' };
  const completed: MatchEvent = {
    type: 'MatchCompleted',
    data: { matchId: 'M1', environmentId: 'pong', agent1Id: 'A1', agent2Id: 'A2', winnerId: 'A2', ...result, completedAt: at },
  };

  it('is requested once, never between an agent and itself', () => {
    spec.given([]).when({ type: 'RequestMatch', ...request, now: at }).then([requested]);
    spec.given([requested]).when({ type: 'RequestMatch', ...request, now: at }).thenThrows(ConflictError);
    spec.given([]).when({ type: 'RequestMatch', ...request, agent2: { ...agent1 }, now: at }).thenThrows(ValidationError);
  });

  it('starts once; a running match may be played again; completes once with the winner id', () => {
    spec.given([requested]).when({ type: 'StartMatch', now: at }).then([started]);
    spec.given([requested, started]).when({ type: 'StartMatch', now: at }).then([]);
    spec.given([requested, started]).when({ type: 'CompleteMatch', ...result, now: at }).then([completed]);
    spec.given([requested, started, completed]).when({ type: 'CompleteMatch', ...result, now: at }).then([]);
    spec.given([requested]).when({ type: 'CompleteMatch', ...result, now: at }).thenThrows(InvalidStateError);
    spec
      .given([requested, started])
      .when({ type: 'CompleteMatch', ...result, winner: 'draw', score1: 2, score2: 2, now: at })
      .then([{ type: 'MatchCompleted', data: { ...(completed.data as object), winner: 'draw', winnerId: null, score1: 2, score2: 2 } } as MatchEvent]);
  });

  it('fails a queued or running match once; never a finished one', () => {
    const failedEvent: MatchEvent = { type: 'MatchFailed', data: { matchId: 'M1', reason: 'no sandbox', failedAt: at } };
    spec.given([requested, started]).when({ type: 'FailMatch', reason: 'no sandbox', now: at }).then([failedEvent]);
    spec.given([requested, started, failedEvent]).when({ type: 'FailMatch', reason: 'no sandbox', now: at }).then([]);
    spec.given([requested, started, completed]).when({ type: 'FailMatch', reason: 'late', now: at }).then([]);
    spec.given([requested, started, failedEvent]).when({ type: 'StartMatch', now: at }).then([]);
  });
});
