import type { PostgresProjection } from './postgres-projection';
import { usersProjection } from './identity/users-projection';

/** Every PostgreSQL projection the system runs. Later features add theirs here. */
export const allPostgresProjections: PostgresProjection[] = [usersProjection];

/**
 * What `arena replay <name>` accepts: a projection's own name, or a group name that stands for
 * several (e.g. `leaderboards`), or `all`.
 */
export const replayGroups: Record<string, string[]> = {};

export function projectionsForReplay(name: string): PostgresProjection[] {
  if (name === 'all') return allPostgresProjections;
  const names = replayGroups[name] ?? [name];
  const found = allPostgresProjections.filter((p) => names.includes(p.name));
  if (found.length !== names.length) {
    const known = ['all', ...Object.keys(replayGroups), ...allPostgresProjections.map((p) => p.name)];
    throw new Error(`unknown projection "${name}"; known: ${known.join(', ')}`);
  }
  return found;
}
