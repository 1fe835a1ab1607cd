import { agentDecider, type AgentEvent } from '../../../src/domain/arena/agent';
import { ABANDONED_AGENT_NAME_AFTER_MS, agentNameClaimDecider, agentNameClaimStreamId } from '../../../src/domain/arena/agent-name-claim';
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from '../../../src/domain/shared/errors';
import { deciderSpec } from '../../support/decider-spec';

const spec = deciderSpec(agentDecider);
const at = '2026-03-01T10:00:00.000Z';
const created: AgentEvent = {
  type: 'AgentCreated',
  data: { agentId: 'A1', ownerId: 'U1', name: 'Tracker', description: null, environmentId: 'pong', createdAt: at },
};
const accepted = (submissionId: string, sequence: number, acceptedAt = at): AgentEvent => ({
  type: 'SubmissionAccepted',
  data: { agentId: 'A1', submissionId, sequence, version: `1.0.${sequence}`, acceptedAt },
});
const activated = (submissionId: string, previous: string | null, sequence: number): AgentEvent => ({
  type: 'ActiveSubmissionChanged',
  data: { agentId: 'A1', submissionId, previousSubmissionId: previous, version: `1.0.${sequence}`, changedAt: at },
});
const deleted: AgentEvent = { type: 'AgentDeleted', data: { agentId: 'A1', ownerId: 'U1', name: 'Tracker', deletedAt: at } };
const accept = (submissionId: string, userId = 'U1', now = at, dailyQuota = 5) =>
  ({ type: 'AcceptSubmission', agentId: 'A1', submissionId, userId, dailyQuota, now }) as const;

describe('Agent decider', () => {
  it('creates an agent once', () => {
    spec.given([]).when({ type: 'CreateAgent', agentId: 'A1', ownerId: 'U1', name: 'Tracker', description: null, environmentId: 'pong', now: at }).then([created]);
    spec.given([created]).when({ type: 'CreateAgent', agentId: 'A1', ownerId: 'U1', name: 'Tracker', description: null, environmentId: 'pong', now: at }).thenThrows(ConflictError);
  });

  it('lets only the owner update or delete; a missing or deleted agent is not found', () => {
    spec.given([created]).when({ type: 'UpdateAgent', agentId: 'A1', userId: 'U2', name: 'X', now: at }).thenThrows(ForbiddenError);
    spec.given([]).when({ type: 'UpdateAgent', agentId: 'A1', userId: 'U1', name: 'X', now: at }).thenThrows(NotFoundError);
    spec.given([created, deleted]).when({ type: 'DeleteAgent', agentId: 'A1', userId: 'U1', now: at }).thenThrows(NotFoundError);
    spec.given([created]).when({ type: 'DeleteAgent', agentId: 'A1', userId: 'U2', now: at }).thenThrows(ForbiddenError);
    spec.given([created]).when({ type: 'DeleteAgent', agentId: 'A1', userId: 'U1', now: at }).then([deleted]);
    spec
      .given([created])
      .when({ type: 'UpdateAgent', agentId: 'A1', userId: 'U1', name: 'Tracker', description: 'new', now: at })
      .then([{ type: 'AgentUpdated', data: { agentId: 'A1', description: 'new', updatedAt: at } }]);
  });

  it('numbers submissions 1.0.1, 1.0.2, ... and accepts the same submission once', () => {
    spec.given([created]).when(accept('S1')).then([accepted('S1', 1)]);
    spec.given([created, accepted('S1', 1)]).when(accept('S2')).then([accepted('S2', 2)]);
    spec.given([created, accepted('S1', 1)]).when(accept('S1')).then([]);
    spec.given([created]).when(accept('S1', 'U2')).thenThrows(ForbiddenError);
    spec.given([created, deleted]).when(accept('S1')).thenThrows(NotFoundError);
  });

  it('enforces the daily submission quota per UTC day', () => {
    const yesterday = '2026-02-28T23:59:59.000Z';
    const full = [created, accepted('S1', 1), accepted('S2', 2)];
    spec.given(full).when(accept('S3', 'U1', at, 2)).thenThrows(RateLimitedError, /at most 2 submissions per agent per day/);
    // Yesterday's uploads do not count today; the version keeps counting.
    spec.given([created, accepted('S1', 1, yesterday), accepted('S2', 2, yesterday)]).when(accept('S3', 'U1', at, 2)).then([accepted('S3', 3)]);
  });

  it('activates a built submission, never replacing a newer version with an older one', () => {
    const two = [created, accepted('S1', 1), accepted('S2', 2)];
    spec.given(two).when({ type: 'ActivateSubmission', agentId: 'A1', submissionId: 'S1', now: at }).then([activated('S1', null, 1)]);
    spec.given([...two, activated('S2', null, 2)]).when({ type: 'ActivateSubmission', agentId: 'A1', submissionId: 'S1', now: at }).then([]);
    spec.given([...two, activated('S1', null, 1)]).when({ type: 'ActivateSubmission', agentId: 'A1', submissionId: 'S2', now: at }).then([activated('S2', 'S1', 2)]);
    spec.given([...two, activated('S2', null, 2)]).when({ type: 'ActivateSubmission', agentId: 'A1', submissionId: 'S2', now: at }).then([]);
    spec.given(two).when({ type: 'ActivateSubmission', agentId: 'A1', submissionId: 'S9', now: at }).thenThrows(ValidationError);
    spec.given([...two, deleted]).when({ type: 'ActivateSubmission', agentId: 'A1', submissionId: 'S1', now: at }).then([]);
  });
});

describe('Agent name claims (unique per owner)', () => {
  const claimSpec = deciderSpec(agentNameClaimDecider);
  const claimed = { type: 'AgentNameClaimed' as const, data: { ownerId: 'U1', name: 'Tracker', agentId: 'A1', at } };
  const claim = (agentId: string, currentHolder: 'alive' | 'deleted' | 'missing', now = at) =>
    ({ type: 'ClaimAgentName', ownerId: 'U1', name: 'Tracker', agentId, now, currentHolder }) as const;

  it('one stream per owner and case-insensitive name', () => {
    expect(agentNameClaimStreamId('U1', ' TRACKER ')).toBe(agentNameClaimStreamId('U1', 'tracker'));
    expect(agentNameClaimStreamId('U1', 'tracker')).not.toBe(agentNameClaimStreamId('U2', 'tracker'));
    expect(agentNameClaimStreamId('U1', 'a b/c')).toBe('agentname-U1-a%20b%2Fc');
  });

  it('a live holder keeps the name; a deleted one frees it; a never-created one after the grace period', () => {
    claimSpec.given([claimed]).when(claim('A2', 'alive')).thenThrows(ConflictError, 'Agent name already exists for this user');
    claimSpec.given([claimed]).when(claim('A1', 'alive')).then([]);
    claimSpec.given([claimed]).when(claim('A2', 'deleted')).then([{ type: 'AgentNameClaimed', data: { ...claimed.data, agentId: 'A2' } }]);
    claimSpec.given([claimed]).when(claim('A2', 'missing')).thenThrows(ConflictError);
    const later = new Date(Date.parse(at) + ABANDONED_AGENT_NAME_AFTER_MS + 1).toISOString();
    claimSpec.given([claimed]).when(claim('A2', 'missing', later)).then([{ type: 'AgentNameClaimed', data: { ...claimed.data, agentId: 'A2', at: later } }]);
  });

  it('only the holder releases', () => {
    claimSpec.given([claimed]).when({ type: 'ReleaseAgentName', ownerId: 'U1', name: 'Tracker', agentId: 'A2', now: at }).then([]);
    claimSpec
      .given([claimed])
      .when({ type: 'ReleaseAgentName', ownerId: 'U1', name: 'Tracker', agentId: 'A1', now: at })
      .then([{ type: 'AgentNameReleased', data: { ownerId: 'U1', name: 'Tracker', agentId: 'A1', at } }]);
  });
});
