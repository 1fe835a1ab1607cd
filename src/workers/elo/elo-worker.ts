import { z } from 'zod';
import { rateCompletedMatch } from '../../commands/arena/match-commands';
import type { Services } from '../../infrastructure/services';
import type { RunningRole } from '../../infrastructure/running-role';
import { consumeEvents, workerCommandContext } from '../arena-worker-support';

const MatchCompletedData = z.object({
  matchId: z.string(),
  environmentId: z.string(),
  agent1Id: z.string(),
  agent2Id: z.string(),
  winner: z.enum(['agent_1', 'agent_2', 'draw']),
  completedAt: z.string(),
});

/**
 * The `elo` role: MatchCompleted -> MatchRated on `ladder-<environment>`, with the configured
 * K-factor. Idempotent per match: the ladder decider refuses a match id it has already rated, so
 * redelivery (or two elo workers) rates each match once.
 */
export async function startEloWorker(services: Services): Promise<RunningRole> {
  const logger = services.logger.child({ role: 'elo' });
  const consumer = await consumeEvents(services, 'elo', ['match'], async (event) => {
    if (event.type !== 'MatchCompleted') return;
    const data = MatchCompletedData.parse(event.data);
    const outcome = await rateCompletedMatch(workerCommandContext(services, 'elo', event), { ...data, kFactor: services.config.ARENA_ELO_K });
    const rated = outcome.events[0];
    if (rated) logger.info({ matchId: data.matchId, agent1: rated.data.agent1, agent2: rated.data.agent2 }, 'match rated');
  });
  return { name: 'elo', stop: () => consumer.stop() };
}
