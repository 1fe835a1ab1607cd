import { matchAvailability, type MatchAvailability, type MatchQuotaPolicy } from '../../domain/arena/match-quota';
import type { Config } from '../../infrastructure/config/config';
import type { RequestMatchDeps } from './match-commands';

type ArenaMatchConfig = Pick<Config, 'ARENA_MATCHES_PER_AGENT_PER_DAY' | 'ARENA_MATCH_COOLDOWN_SEC' | 'ARENA_PONG_TARGET_SCORE'>;

export const matchQuotaPolicy = (config: ArenaMatchConfig): MatchQuotaPolicy => ({
  matchesPerDay: config.ARENA_MATCHES_PER_AGENT_PER_DAY,
  cooldownSec: config.ARENA_MATCH_COOLDOWN_SEC,
});

/** Options every match of an environment is played with; recorded on MatchRequested, so replays stay exact. */
export function environmentOptionsFor(config: ArenaMatchConfig, environmentId: string): Record<string, number> {
  return environmentId === 'pong' ? { targetScore: config.ARENA_PONG_TARGET_SCORE } : {};
}

/** An agent's matches so far today and its last match, as some read model sees them (a port: the caller supplies the query). */
export type AgentMatchLoadReader = (agentId: string, now: Date) => Promise<{ matchesToday: number; lastMatchAt: string | null }>;

/**
 * Quota and cooldown as the matches read model sees them, for stats and the matchmaker's choice of
 * candidates. Requests themselves are decided on the agents' match-slot streams (match-slots.ts).
 */
export async function agentAvailability(readLoad: AgentMatchLoadReader, config: ArenaMatchConfig, agentId: string, now: Date): Promise<MatchAvailability> {
  const load = await readLoad(agentId, now);
  return matchAvailability({ matchesToday: load.matchesToday, lastMatchAt: load.lastMatchAt, now: now.toISOString(), policy: matchQuotaPolicy(config) });
}

export function matchRequestDeps(config: ArenaMatchConfig): RequestMatchDeps {
  return {
    quotaPolicy: matchQuotaPolicy(config),
    environmentOptionsFor: (environmentId) => environmentOptionsFor(config, environmentId),
  };
}
