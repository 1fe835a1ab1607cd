import { existsSync } from 'node:fs';
import { handleMatchCommand, loadMatch, releaseMatchSlot } from '../../commands/arena/match-commands';
import { loadSubmission } from '../../commands/arena/submission-commands';
import type { MatchParticipant } from '../../domain/arena/match';
import { arenaStorage, type ArenaStorage } from '../../infrastructure/artifacts/arena-storage';
import type { CommandServices } from '../../commands/command-states';
import type { StoredEventFields } from '../../infrastructure/eventstore/event-store';
import type { SandboxEngine } from '../../infrastructure/sandbox/sandbox-engine';
import type { UidPool } from '../../infrastructure/sandbox/uid-pool';
import type { RunningRole } from '../../infrastructure/running-role';
import { consumeEvents, workerCommandContext } from '../arena-worker-support';
import { runMatch, type MatchAgent } from './match-runner';
import { renderReplayHtml } from './replay-html';

export interface MatchWorkerOptions {
  storage?: ArenaStorage;
  engine?: SandboxEngine;
  uidPool?: UidPool;
}

class MatchCannotRun extends Error {}

/**
 * The `matches` role: MatchRequested -> run the match between the two pinned submissions, write
 * the replay (JSON + HTML), record MatchCompleted (or MatchFailed when the match could not be
 * played through no fault of the agents). A completed or failed match is never played again; one
 * cut short by a crash (`running`) is played again from its seed.
 */
export async function startMatchWorker(services: CommandServices, options: MatchWorkerOptions = {}): Promise<RunningRole> {
  const storage = options.storage ?? arenaStorage(services.config);
  const logger = services.logger.child({ role: 'matches' });
  const config = services.config;

  const matchAgent = async (participant: MatchParticipant): Promise<MatchAgent> => {
    const submission = await loadSubmission({ store: services.store }, participant.submissionId);
    if (submission.status !== 'success' || submission.build === null) {
      throw new MatchCannotRun(`submission ${participant.submissionId} of agent ${participant.agentId} is not built (${submission.status})`);
    }
    const { agentDir, pythonExecutable } = submission.build;
    if (!existsSync(agentDir) || !existsSync(pythonExecutable)) {
      throw new MatchCannotRun(`the build of submission ${participant.submissionId} is not on this machine (${agentDir})`);
    }
    return { id: participant.agentId, dir: agentDir, pythonExecutable };
  };

  const play = async (cause: StoredEventFields, matchId: string) => {
    const ctx = workerCommandContext(services, 'matches', cause);
    const match = await loadMatch(ctx, matchId);
    if (match.status !== 'queued' && match.status !== 'running') return;
    await handleMatchCommand(ctx, matchId, { type: 'StartMatch', now: services.now().toISOString() });
    logger.info({ matchId, environment: match.environmentId }, 'match started');
    try {
      const agents = [await matchAgent(match.agent1), await matchAgent(match.agent2)] as const;
      const result = await runMatch({
        matchId,
        environmentId: match.environmentId,
        environmentOptions: match.environmentOptions,
        seed: match.seed,
        agents,
        limits: { stepDeadlineMs: config.ARENA_STEP_DEADLINE_MS, matchDeadlineMs: config.ARENA_MATCH_DEADLINE_SEC * 1000 },
        engine: options.engine,
        uidPool: options.uidPool,
      });
      const keys = await storage.replays.save(matchId, { json: JSON.stringify(result.replay), html: renderReplayHtml(result.replay) });
      await handleMatchCommand(ctx, matchId, {
        type: 'CompleteMatch',
        winner: result.winner,
        score1: result.scores[0],
        score2: result.scores[1],
        totalSteps: result.totalSteps,
        executionTimeSec: result.executionTimeSec,
        forfeits: [...result.forfeits],
        replayJsonKey: keys.jsonKey,
        replayHtmlKey: keys.htmlKey,
        now: services.now().toISOString(),
      });
      logger.info({ matchId, winner: result.winner, scores: result.scores, steps: result.totalSteps }, 'match completed');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.error({ err: error, matchId }, 'match could not be played');
      await handleMatchCommand(ctx, matchId, { type: 'FailMatch', reason, now: services.now().toISOString() });
      // A match that could not be played does not count against the agents' quota.
      for (const participant of [match.agent1, match.agent2]) await releaseMatchSlot(ctx, participant.agentId, matchId);
    }
  };

  const consumer = await consumeEvents(services, 'matches', ['match'], {
    MatchRequested: (event) => play(event, event.data.matchId),
  });
  return { name: 'matches', stop: () => consumer.stop() };
}
