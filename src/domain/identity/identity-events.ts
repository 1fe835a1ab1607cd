import { EventRegistry } from '../shared/event-registry';
import { SessionRefreshed, SessionRevoked, SessionStarted } from './session';
import { ValueClaimed, ValueReleased } from './unique-claim';
import { UserLoggedIn, UserProfileUpdated, UserRegistered } from './user';

/** Every event of the identity context, by type name. */
export const identityEvents = new EventRegistry([
  UserRegistered,
  UserLoggedIn,
  UserProfileUpdated,
  SessionStarted,
  SessionRefreshed,
  SessionRevoked,
  ValueClaimed,
  ValueReleased,
]);
