import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '../../../src/domain/shared/errors';
import { runnerTokenDecider, runnerTokenOwner, type RunnerTokenEvent } from '../../../src/domain/training/runner-token';
import { deciderSpec } from '../../support/decider-spec';

const spec = deciderSpec(runnerTokenDecider);
const T0 = '2024-01-15T10:00:00.000Z';
const issued: RunnerTokenEvent = {
  type: 'RunnerTokenIssued',
  data: { tokenId: 't1', ownerId: 'owner', name: 'rig', secretSha256: 'ab'.repeat(32), issuedAt: T0 },
};
const revoked: RunnerTokenEvent = { type: 'RunnerTokenRevoked', data: { tokenId: 't1', revokedBy: 'owner', revokedAt: T0 } };
const fold = (events: RunnerTokenEvent[]) => events.reduce(runnerTokenDecider.evolve, runnerTokenDecider.initialState());

describe('RunnerToken decider', () => {
  it('issues a token once', () => {
    const issue = { type: 'IssueRunnerToken' as const, tokenId: 't1', ownerId: 'owner', name: 'rig', secretSha256: 'ab'.repeat(32), now: T0 };
    spec.given([]).when(issue).then([issued]);
    spec.given([issued]).when(issue).thenThrows(ConflictError);
  });

  it('lets only the owner revoke, once', () => {
    spec.given([issued]).when({ type: 'RevokeRunnerToken', userId: 'owner', now: T0 }).then([revoked]);
    spec.given([issued]).when({ type: 'RevokeRunnerToken', userId: 'someone', now: T0 }).thenThrows(ForbiddenError);
    spec.given([]).when({ type: 'RevokeRunnerToken', userId: 'owner', now: T0 }).thenThrows(NotFoundError);
    spec.given([issued, revoked]).when({ type: 'RevokeRunnerToken', userId: 'owner', now: T0 }).then([]);
  });

  it('authenticates an active token with the right secret only, with the same error for every failure', () => {
    expect(runnerTokenOwner(fold([issued]), (stored) => stored === 'ab'.repeat(32))).toEqual({ tokenId: 't1', ownerId: 'owner' });
    expect(() => runnerTokenOwner(fold([issued]), () => false)).toThrow(new UnauthorizedError('Invalid runner token'));
    expect(() => runnerTokenOwner(fold([issued, revoked]), () => true)).toThrow(new UnauthorizedError('Invalid runner token'));
    expect(() => runnerTokenOwner(fold([]), () => true)).toThrow(new UnauthorizedError('Invalid runner token'));
  });
});
