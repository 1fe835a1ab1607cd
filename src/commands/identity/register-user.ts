import { userDecider, userStreamId, type User } from '../../domain/identity/user';
import type { PasswordHasher } from '../../infrastructure/security/password-hasher';
import type { CommandContext } from '../command-context';
import { handleCommand, type CommandOutcome } from '../handle-command';
import { claimUniqueValue, releaseUniqueValue } from './claim-unique-value';
import type { UserEvent } from '../../domain/identity/user';

export interface RegisterUserInput {
  username: string;
  email: string;
  password: string;
  fullName: string | null;
}

/**
 * Claims the username, then the email (each a stream appended with optimistic concurrency), then
 * records the registration. A failed later step releases what the earlier ones claimed, the
 * registration itself included (e.g. the user stream's append is refused).
 */
export async function registerUser(
  ctx: CommandContext,
  hasher: PasswordHasher,
  input: RegisterUserInput,
): Promise<CommandOutcome<User, UserEvent> & { userId: string }> {
  const userId = ctx.newId();
  const passwordHash = await hasher.hash(input.password);
  await claimUniqueValue(ctx, 'username', input.username, userId);
  try {
    await claimUniqueValue(ctx, 'email', input.email, userId);
  } catch (error) {
    await releaseUniqueValue(ctx, 'username', input.username, userId);
    throw error;
  }
  try {
    const outcome = await handleCommand(
      ctx.store,
      userStreamId(userId),
      userDecider,
      {
        type: 'RegisterUser',
        userId,
        username: input.username,
        email: input.email,
        passwordHash,
        fullName: input.fullName,
        now: ctx.now().toISOString(),
      },
      { metadata: { ...ctx.metadata, userId } },
    );
    return { ...outcome, userId };
  } catch (error) {
    // The user was not recorded: give back both claims (a ValueReleased on each claim stream),
    // so a corrected retry is not refused with 409 by its own leftovers. An append that did land
    // before the error surfaced keeps its claims.
    const recorded = (await ctx.store.readStream(userStreamId(userId), { maxCount: 1 })).length > 0;
    if (!recorded) {
      await releaseUniqueValue(ctx, 'email', input.email, userId);
      await releaseUniqueValue(ctx, 'username', input.username, userId);
    }
    throw error;
  }
}
