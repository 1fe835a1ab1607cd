import { userDecider, userStreamId, type User, type UserEvent } from '../../domain/identity/user';
import { NotFoundError } from '../../domain/shared/errors';
import type { CommandContext } from '../command-context';
import { handleCommand, loadAggregate, type CommandOutcome } from '../handle-command';
import { claimUniqueValue, releaseUniqueValue } from './claim-unique-value';

export interface UpdateProfileInput {
  email?: string;
  fullName?: string | null;
}

/** A new email is claimed before the profile changes and the old one released after, so none is ever shared. */
export async function updateProfile(
  ctx: CommandContext,
  userId: string,
  input: UpdateProfileInput,
): Promise<CommandOutcome<User, UserEvent>> {
  const users = ctx.states?.users;
  // Without a new email the guard needs no fresh state: a user remembered as registered goes to the
  // command, whose append checks the remembered revision (a user deleted meanwhile conflicts, and the
  // decider refuses on the state read then). A new email is claimed against the stored state.
  const remembered = input.email === undefined ? users?.remembered?.(userStreamId(userId)) : undefined;
  const { state } = remembered?.state.status === 'registered' ? remembered : await loadAggregate(ctx.store, userStreamId(userId), userDecider, users);
  if (state.status !== 'registered') throw new NotFoundError('User not found');
  const previousEmail = state.email;
  const emailChanges = input.email !== undefined && input.email !== previousEmail;
  if (emailChanges && input.email !== undefined) await claimUniqueValue(ctx, 'email', input.email, userId);
  const outcome = await handleCommand(
    ctx.store,
    userStreamId(userId),
    userDecider,
    { type: 'UpdateProfile', userId, email: input.email, fullName: input.fullName, now: ctx.now().toISOString() },
    { metadata: { ...ctx.metadata, userId }, ...(users ? { source: users } : {}) },
  );
  if (emailChanges) await releaseUniqueValue(ctx, 'email', previousEmail, userId);
  return outcome;
}
