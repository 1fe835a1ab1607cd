import { rateCompletedMatch } from '../../commands/arena/match-commands';
import type { CommandServices } from '../../commands/command-states';
import type { RunningRole } from '../../infrastructure/running-role';
import { consumeEvents, workerCommandContext } from '../arena-worker-support';

/**
 * The `elo` role: MatchCompleted -> MatchRated on `ladder-<environment>`, with the configured
 * K-factor. Idempotent per match: the ladder decider refuses a match id it has already rated, so
 * redelivery (or two elo workers) rates each match once.
 */
export async function startEloWorker(services: CommandServices): Promise<RunningRole> {
  const logger = services.logger.child({ role: 'elo' });
  const consumer = await consumeEvents(services, 'elo', ['match'], {
    async MatchCompleted(event) {
      const { matchId, environmentId, agent1Id, agent2Id, winner, completedAt } = event.data;
      const outcome = await rateCompletedMatch(workerCommandContext(services, 'elo', event), {
        matchId,
        environmentId,
        agent1Id,
        agent2Id,
        winner,
        completedAt,
        kFactor: services.config.ARENA_ELO_K,
      });
      const rated = outcome.events[0];
      if (rated) logger.info({ matchId, agent1: rated.data.agent1, agent2: rated.data.agent2 }, 'match rated');
    },
  });
  return { name: 'elo', stop: () => consumer.stop() };
}
