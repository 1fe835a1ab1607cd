import type { CommandContext } from '../../commands/command-context';
import type { Services } from '../../infrastructure/services';
import type { PostgresProjection } from '../../projections/postgres/postgres-projection';
import { waitForProjection } from '../../projections/postgres/projection-runner';
import type { RouteContext } from '../shared/route';

export type ArenaRouteDeps = Pick<Services, 'store' | 'db' | 'bus' | 'config' | 'now' | 'newId' | 'logger'>;

export function commandContextOf(deps: ArenaRouteDeps, ctx: RouteContext<unknown, unknown, unknown>): CommandContext {
  return {
    store: deps.store,
    now: deps.now,
    newId: deps.newId,
    metadata: { correlationId: ctx.requestId, causationId: ctx.requestId, ...(ctx.user ? { userId: ctx.user.id } : {}) },
  };
}

/**
 * Read-your-writes: waits (boundedly; not at all while the bus is known to be down) until the read
 * model the next GET reads reflects the command. False when it does not yet: the answer must then
 * come from the command's own outcome, never from the read model.
 */
export async function projected(
  deps: Pick<Services, 'db' | 'bus'>,
  projection: PostgresProjection,
  streamId: string,
  revision: bigint | null,
): Promise<boolean> {
  return revision === null || (await waitForProjection(deps.db, projection.name, streamId, revision, { bus: deps.bus }));
}
