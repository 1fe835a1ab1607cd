import type { Knex } from 'knex';
import type { CommandContext } from '../../commands/command-context';
import type { Services } from '../../infrastructure/container';
import type { PostgresProjection } from '../../projections/postgres/postgres-projection';
import { waitForProjection } from '../../projections/postgres/projection-runner';
import type { RouteContext } from '../shared/route';

export type ArenaRouteDeps = Pick<Services, 'store' | 'db' | 'config' | 'now' | 'newId' | 'logger'>;

export function commandContextOf(deps: ArenaRouteDeps, ctx: RouteContext<unknown, unknown, unknown>): CommandContext {
  return {
    store: deps.store,
    now: deps.now,
    newId: deps.newId,
    metadata: { correlationId: ctx.requestId, causationId: ctx.requestId, ...(ctx.user ? { userId: ctx.user.id } : {}) },
  };
}

/** Read-your-writes: the answer to a command reflects it in the read model the next GET reads. */
export async function projected(db: Knex, projection: PostgresProjection, streamId: string, revision: bigint | null): Promise<void> {
  if (revision !== null) await waitForProjection(db, projection.name, streamId, revision);
}
