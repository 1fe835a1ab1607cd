import { requestMatch } from '../../commands/arena/match-commands';
import { matchQuotaPolicy, matchRequestDeps } from '../../commands/arena/match-policy';
import { knownEnvironmentIds } from '../../domain/arena/environments/registry';
import { matchStreamId } from '../../domain/arena/match';
import { matchAvailability } from '../../domain/arena/match-quota';
import { pairCandidates, type MatchCandidate } from '../../domain/arena/matchmaking';
import { AppError } from '../../domain/shared/errors';
import type { CommandServices } from '../../commands/command-states';
import { matchmakingCandidates } from '../../projections/postgres/arena/agent-queries';
import { matchesProjection } from '../../projections/postgres/arena/matches-projection';
import { waitForProjection } from '../../projections/postgres/projection-runner';
import type { RunningRole } from '../../infrastructure/running-role';
import { workerCommandContext } from '../arena-worker-support';

/**
 * One matchmaking round: per environment, the agents with a built submission that may play now
 * (quota, cooldown, no match queued or running) are paired by rating (src/domain/arena/matchmaking.ts)
 * and each pair gets a match. Returns the requested match ids.
 */
export async function runMatchmakingRound(services: CommandServices): Promise<string[]> {
  const { db, config } = services;
  const deps = matchRequestDeps(config);
  const requested: string[] = [];
  for (const environmentId of knownEnvironmentIds()) {
    const now = services.now();
    const candidates: MatchCandidate[] = (await matchmakingCandidates(db, environmentId, now))
      .filter((row) => row.open === 0)
      .filter(
        (row) =>
          matchAvailability({
            matchesToday: row.today,
            lastMatchAt: row.last_at === null ? null : new Date(row.last_at).toISOString(),
            now: now.toISOString(),
            policy: matchQuotaPolicy(config),
          }).canMatch,
      )
      .map((row) => ({ agentId: row.id, ownerId: row.user_id, rating: row.elo_rating }));
    for (const [first, second] of pairCandidates(candidates, { maxRatingGap: config.ARENA_MATCHMAKER_MAX_RATING_GAP })) {
      try {
        const outcome = await requestMatch(workerCommandContext(services, 'matchmaker'), deps, {
          agent1Id: first.agentId,
          agent2Id: second.agentId,
          environmentId,
          source: 'matchmaker',
          requestedBy: null,
        });
        requested.push(outcome.matchId);
        // The next round's quota counts read this model: let it see this match first.
        if (outcome.revision !== null) await waitForProjection(db, matchesProjection.name, matchStreamId(outcome.matchId), outcome.revision);
      } catch (error) {
        // A pair that became invalid since the read (agent deleted, quota used by a manual match) is skipped.
        if (!(error instanceof AppError)) throw error;
        services.logger.debug({ err: error, agents: [first.agentId, second.agentId] }, 'matchmaker skipped a pair');
      }
    }
  }
  return requested;
}

/**
 * The `matchmaker` role: a round every ARENA_MATCHMAKER_INTERVAL_SEC. Run one matchmaker per
 * deployment (two would pair the same agents in the same round; quotas still bound the damage).
 */
export async function startMatchmaker(services: CommandServices): Promise<RunningRole> {
  const logger = services.logger.child({ role: 'matchmaker' });
  let stopped = false;
  let running: Promise<void> | null = null;
  const round = async () => {
    try {
      const matches = await runMatchmakingRound(services);
      if (matches.length > 0) logger.info({ matches: matches.length }, 'matchmaking round requested matches');
    } catch (error) {
      logger.error({ err: error }, 'matchmaking round failed');
    } finally {
      running = null;
    }
  };
  const intervalMs = Math.max(100, services.config.ARENA_MATCHMAKER_INTERVAL_SEC * 1000);
  const timer = setInterval(() => {
    // A round still running when the next is due: that round is skipped, not queued.
    if (!stopped && running === null) running = round();
  }, intervalMs);
  return {
    name: 'matchmaker',
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
