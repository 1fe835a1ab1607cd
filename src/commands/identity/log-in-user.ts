import { UnauthorizedError } from '../../domain/shared/errors';
import { userDecider, userStreamId, type User, type UserEvent } from '../../domain/identity/user';
import type { PasswordHasher } from '../../infrastructure/security/password-hasher';
import type { CommandContext } from '../command-context';
import { handleCommand, loadAggregate, type CommandOutcome } from '../handle-command';
import { ownerOfUniqueValue } from './claim-unique-value';

/** A valid hash of a random password: verifying against it costs what a real check costs. */
const TIMING_DECOY_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export type LoginIdentifier = { email: string } | { username: string };

/**
 * Finds the account through its claim stream (strongly consistent, unlike a read model), checks the
 * password, and records the login. Unknown account and wrong password answer the same, in the same time.
 */
export async function logInUser(
  ctx: CommandContext,
  hasher: PasswordHasher,
  identifier: LoginIdentifier,
  password: string,
): Promise<CommandOutcome<User, UserEvent> & { user: Extract<User, { status: 'registered' }> }> {
  const userId =
    'email' in identifier
      ? await ownerOfUniqueValue(ctx, 'email', identifier.email)
      : await ownerOfUniqueValue(ctx, 'username', identifier.username);
  if (userId === null) {
    await hasher.verify(password, TIMING_DECOY_HASH);
    throw new UnauthorizedError('Invalid credentials');
  }
  const users = ctx.states?.users;
  const { state } = await loadAggregate(ctx.store, userStreamId(userId), userDecider, users);
  const passwordMatches = state.status === 'registered' && (await hasher.verify(password, state.passwordHash));
  const outcome = await handleCommand(
    ctx.store,
    userStreamId(userId),
    userDecider,
    { type: 'RecordLogin', userId, passwordMatches, now: ctx.now().toISOString() },
    { metadata: { ...ctx.metadata, userId }, ...(users ? { source: users } : {}) },
  );
  if (outcome.state.status !== 'registered') throw new UnauthorizedError('Invalid credentials');
  return { ...outcome, user: outcome.state };
}
