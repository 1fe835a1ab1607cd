import { userDecider, type UserEvent } from '../../../../src/domain/identity/user';
import { ConflictError, NotFoundError, UnauthorizedError } from '../../../../src/domain/shared/errors';
import { deciderSpec } from '../../../support/decider-spec';

const spec = deciderSpec(userDecider);
const NOW = '2026-01-02T03:04:05.000Z';
const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId: 'u1', username: 'racer', email: 'r@x.io', passwordHash: 'h', fullName: null, registeredAt: NOW },
};

describe('user decider', () => {
  it('registers a new user', () => {
    spec
      .given([])
      .when({ type: 'RegisterUser', userId: 'u1', username: 'racer', email: 'r@x.io', passwordHash: 'h', fullName: null, now: NOW })
      .then([registered]);
  });

  it('refuses to register the same user twice', () => {
    spec
      .given([registered])
      .when({ type: 'RegisterUser', userId: 'u1', username: 'racer', email: 'r@x.io', passwordHash: 'h', fullName: null, now: NOW })
      .thenThrows(ConflictError);
  });

  it('records a login when the password matched', () => {
    spec
      .given([registered])
      .when({ type: 'RecordLogin', userId: 'u1', passwordMatches: true, now: NOW })
      .then([{ type: 'UserLoggedIn', data: { userId: 'u1', loggedInAt: NOW } }]);
  });

  it('answers invalid credentials, the same for a wrong password and an unknown user', () => {
    spec.given([registered]).when({ type: 'RecordLogin', userId: 'u1', passwordMatches: false, now: NOW }).thenThrows(UnauthorizedError, 'Invalid credentials');
    spec.given([]).when({ type: 'RecordLogin', userId: 'u1', passwordMatches: true, now: NOW }).thenThrows(UnauthorizedError, 'Invalid credentials');
  });

  it('records only the fields that change on a profile update', () => {
    spec
      .given([registered])
      .when({ type: 'UpdateProfile', userId: 'u1', email: 'r@x.io', fullName: 'Ayrton', now: NOW })
      .then([{ type: 'UserProfileUpdated', data: { userId: 'u1', fullName: 'Ayrton', updatedAt: NOW } }]);
  });

  it('cannot update a user that does not exist', () => {
    spec.given([]).when({ type: 'UpdateProfile', userId: 'u1', email: 'a@b.io', now: NOW }).thenThrows(NotFoundError);
  });

  it('folds profile updates into state', () => {
    const state = [
      registered,
      { type: 'UserProfileUpdated', data: { userId: 'u1', email: 'new@x.io', updatedAt: NOW } } as UserEvent,
    ].reduce(userDecider.evolve, userDecider.initialState());
    expect(state).toMatchObject({ status: 'registered', email: 'new@x.io', fullName: null });
  });
});
