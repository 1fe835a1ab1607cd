import type { PostgresProjection } from './postgres-projection';
import { arenaLeaderboardProjectionNames, arenaProjections } from './arena/arena-projections';
import { usersProjection } from './identity/users-projection';
import { racingLeaderboardProjection } from './racing/racing-leaderboard-projection';
import { telemetrySessionsProjection } from './racing/telemetry-sessions-projection';
import { trainingProjectionNames, trainingProjections } from './training/training-projections';

/** Every PostgreSQL projection the system runs. Later features add theirs here. */
export const allPostgresProjections: PostgresProjection[] = [usersProjection, telemetrySessionsProjection, racingLeaderboardProjection, ...arenaProjections, ...trainingProjections];

/**
 * What `arena replay <name>` accepts: a projection's own name, or a group name that stands for
 * several (e.g. `leaderboards`), or `all`.
 */
export const replayGroups: Record<string, string[]> = {
  leaderboards: [racingLeaderboardProjection.name, ...arenaLeaderboardProjectionNames],
  training: trainingProjectionNames,
};

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
