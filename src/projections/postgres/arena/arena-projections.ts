import type { PostgresProjection } from '../postgres-projection';
import { agentsProjection } from './agents-projection';
import { ladderProjection } from './ladder-projection';
import { matchesProjection } from './matches-projection';
import { submissionsProjection } from './submissions-projection';

/** Every arena read model (contributed by src/contexts/arena.module.ts). */
export const arenaProjections: PostgresProjection[] = [agentsProjection, submissionsProjection, matchesProjection, ladderProjection];

/**
 * What `arena replay leaderboards` rebuilds for the arena: agent ratings and records, and the
 * per-match rating changes, all from MatchRated.
 */
export const arenaLeaderboardProjectionNames = [agentsProjection.name, ladderProjection.name];
