import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError, NotFoundError, UnauthorizedError } from '../shared/errors';

export const userStreamId = (userId: string): string => `user-${userId}`;

export const UserRegistered = defineEvent('UserRegistered', {
  data: z.object({
    userId: z.string(),
    username: z.string(),
    email: z.string(),
    passwordHash: z.string(),
    fullName: z.string().nullable(),
    registeredAt: z.string(),
  }),
});
export type UserRegistered = EventOf<typeof UserRegistered>;
export const UserLoggedIn = defineEvent('UserLoggedIn', { data: z.object({ userId: z.string(), loggedInAt: z.string() }) });
export type UserLoggedIn = EventOf<typeof UserLoggedIn>;
export const UserProfileUpdated = defineEvent('UserProfileUpdated', {
  data: z.object({ userId: z.string(), email: z.string().optional(), fullName: z.string().nullable().optional(), updatedAt: z.string() }),
});
export type UserProfileUpdated = EventOf<typeof UserProfileUpdated>;
export type UserEvent = UserRegistered | UserLoggedIn | UserProfileUpdated;

export type User =
  | { status: 'none' }
  | {
      status: 'registered';
      userId: string;
      username: string;
      email: string;
      passwordHash: string;
      fullName: string | null;
    };

export type UserCommand =
  | { type: 'RegisterUser'; userId: string; username: string; email: string; passwordHash: string; fullName: string | null; now: string }
  /** `passwordMatches` is computed by the handler with the KDF: the domain stays pure. */
  | { type: 'RecordLogin'; userId: string; passwordMatches: boolean; now: string }
  | { type: 'UpdateProfile'; userId: string; email?: string; fullName?: string | null; now: string };

export const initialUser = (): User => ({ status: 'none' });

export function evolveUser(state: User, event: UserEvent): User {
  switch (event.type) {
    case 'UserRegistered':
      return { status: 'registered', ...event.data };
    case 'UserLoggedIn':
      return state;
    case 'UserProfileUpdated':
      if (state.status !== 'registered') return state;
      return {
        ...state,
        email: event.data.email ?? state.email,
        fullName: event.data.fullName === undefined ? state.fullName : event.data.fullName,
      };
  }
}

export function decideUser(command: UserCommand, state: User): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser': {
      if (state.status !== 'none') throw new ConflictError('user already exists');
      const { userId, username, email, passwordHash, fullName, now } = command;
      return [{ type: 'UserRegistered', data: { userId, username, email, passwordHash, fullName, registeredAt: now } }];
    }
    case 'RecordLogin': {
      // One message for unknown user and wrong password: do not reveal which accounts exist.
      if (state.status !== 'registered' || !command.passwordMatches) throw new UnauthorizedError('Invalid credentials');
      return [{ type: 'UserLoggedIn', data: { userId: command.userId, loggedInAt: command.now } }];
    }
    case 'UpdateProfile': {
      if (state.status !== 'registered') throw new NotFoundError('user not found');
      const changes: UserProfileUpdated['data'] = { userId: command.userId, updatedAt: command.now };
      if (command.email !== undefined && command.email !== state.email) changes.email = command.email;
      if (command.fullName !== undefined && command.fullName !== state.fullName) changes.fullName = command.fullName;
      return [{ type: 'UserProfileUpdated', data: changes }];
    }
  }
}

export const userDecider: Decider<UserCommand, User, UserEvent> = {
  initialState: initialUser,
  evolve: evolveUser,
  decide: decideUser,
};
