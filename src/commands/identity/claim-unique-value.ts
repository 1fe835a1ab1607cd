import { userStreamId } from '../../domain/identity/user';
import { uniqueClaimDecider, uniqueClaimStreamId, type UniqueKind } from '../../domain/identity/unique-claim';
import type { CommandContext } from '../command-context';
import { handleCommand, loadAggregate } from '../handle-command';

export async function claimUniqueValue(ctx: CommandContext, kind: UniqueKind, value: string, ownerId: string): Promise<void> {
  const currentOwner = await ownerOfUniqueValue(ctx, kind, value);
  const currentOwnerExists =
    currentOwner !== null && currentOwner !== ownerId
      ? (await ctx.store.readStream(userStreamId(currentOwner), { maxCount: 1 })).length > 0
      : false;
  await handleCommand(
    ctx.store,
    uniqueClaimStreamId(kind, value),
    uniqueClaimDecider,
    { type: 'Claim', kind, value, ownerId, now: ctx.now().toISOString(), currentOwnerExists },
    { metadata: ctx.metadata },
  );
}

export async function releaseUniqueValue(ctx: CommandContext, kind: UniqueKind, value: string, ownerId: string): Promise<void> {
  await handleCommand(
    ctx.store,
    uniqueClaimStreamId(kind, value),
    uniqueClaimDecider,
    { type: 'Release', kind, value, ownerId, now: ctx.now().toISOString() },
    { metadata: ctx.metadata },
  );
}

/** Strongly consistent lookup (the claim stream, not a read model): who owns this value now. */
export async function ownerOfUniqueValue(ctx: Pick<CommandContext, 'store'>, kind: UniqueKind, value: string): Promise<string | null> {
  const { state } = await loadAggregate(ctx.store, uniqueClaimStreamId(kind, value), uniqueClaimDecider);
  return state.holderId;
}
