import { ABANDONED_CLAIM_AFTER_MS, uniqueClaimDecider, uniqueClaimStreamId, type UniqueClaimEvent } from '../../../../src/domain/identity/unique-claim';
import { ConflictError } from '../../../../src/domain/shared/errors';
import { deciderSpec } from '../../../support/decider-spec';

const spec = deciderSpec(uniqueClaimDecider);
const at = '2026-01-01T00:00:00.000Z';
const claimedByA: UniqueClaimEvent = { type: 'ValueClaimed', data: { kind: 'email', value: 'a@x.io', ownerId: 'A', at } };
const releasedByA: UniqueClaimEvent = { type: 'ValueReleased', data: { kind: 'email', value: 'a@x.io', ownerId: 'A', at } };

describe('unique value claims', () => {
  it('a free value can be claimed', () => {
    spec.given([]).when({ type: 'Claim', kind: 'email', value: 'a@x.io', ownerId: 'A', now: at, currentOwnerExists: false }).then([claimedByA]);
  });
  it('a value owned by someone else is a conflict', () => {
    spec.given([claimedByA]).when({ type: 'Claim', kind: 'email', value: 'a@x.io', ownerId: 'B', now: at, currentOwnerExists: true }).thenThrows(ConflictError, 'Email already exists');
  });
  it('claiming again by the owner changes nothing', () => {
    spec.given([claimedByA]).when({ type: 'Claim', kind: 'email', value: 'a@x.io', ownerId: 'A', now: at, currentOwnerExists: false }).then([]);
  });
  it('a released value can be claimed by another owner', () => {
    spec
      .given([claimedByA, releasedByA])
      .when({ type: 'Claim', kind: 'email', value: 'a@x.io', ownerId: 'B', now: at, currentOwnerExists: false })
      .then([{ type: 'ValueClaimed', data: { kind: 'email', value: 'a@x.io', ownerId: 'B', at } }]);
  });
  it('a claim whose owner never registered is abandoned after the grace period, not before', () => {
    const soon = new Date(Date.parse(at) + ABANDONED_CLAIM_AFTER_MS - 1).toISOString();
    const later = new Date(Date.parse(at) + ABANDONED_CLAIM_AFTER_MS + 1).toISOString();
    spec.given([claimedByA]).when({ type: 'Claim', kind: 'email', value: 'a@x.io', ownerId: 'B', now: soon, currentOwnerExists: false }).thenThrows(ConflictError);
    spec
      .given([claimedByA])
      .when({ type: 'Claim', kind: 'email', value: 'a@x.io', ownerId: 'B', now: later, currentOwnerExists: false })
      .then([{ type: 'ValueClaimed', data: { kind: 'email', value: 'a@x.io', ownerId: 'B', at: later } }]);
    spec.given([claimedByA]).when({ type: 'Claim', kind: 'email', value: 'a@x.io', ownerId: 'B', now: later, currentOwnerExists: true }).thenThrows(ConflictError);
  });
  it('only the owner can release', () => {
    spec.given([claimedByA]).when({ type: 'Release', kind: 'email', value: 'a@x.io', ownerId: 'B', now: at }).then([]);
  });
  it('stream ids compare values case-insensitively', () => {
    expect(uniqueClaimStreamId('username', ' Racer ')).toBe(uniqueClaimStreamId('username', 'racer'));
  });
});
