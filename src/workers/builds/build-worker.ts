import { activateSubmission } from '../../commands/arena/agent-commands';
import { handleSubmissionCommand, loadSubmission } from '../../commands/arena/submission-commands';
import { arenaStorage, type ArenaStorage } from '../../infrastructure/artifacts/arena-storage';
import type { CommandServices } from '../../commands/command-states';
import type { StoredEventFields } from '../../infrastructure/eventstore/event-store';
import type { SandboxEngine } from '../../infrastructure/sandbox/sandbox-engine';
import type { UidPool } from '../../infrastructure/sandbox/uid-pool';
import type { RunningRole } from '../../infrastructure/running-role';
import { consumeEvents, workerCommandContext } from '../arena-worker-support';
import { buildAgent } from './agent-builder';

export interface BuildWorkerOptions {
  storage?: ArenaStorage;
  engine?: SandboxEngine;
  uidPool?: UidPool;
}

/**
 * The `builds` role. SubmissionReceived / RebuildRequested: build the submission unless its stream
 * says it is already built or failed (a redelivered message does no work twice; a build cut short
 * by a crash is `building` and is built again). BuildSucceeded: make it the agent's active
 * submission (the agent decider ignores repeats and never replaces a newer version).
 */
export async function startBuildWorker(services: CommandServices, options: BuildWorkerOptions = {}): Promise<RunningRole> {
  const storage = options.storage ?? arenaStorage(services.config);
  const logger = services.logger.child({ role: 'builds' });

  const build = async (cause: StoredEventFields, submissionId: string) => {
    const ctx = workerCommandContext(services, 'builds', cause);
    const submission = await loadSubmission(ctx, submissionId);
    if (submission.status !== 'queued' && submission.status !== 'building') return;
    const started = await handleSubmissionCommand(ctx, submissionId, { type: 'StartBuild', now: services.now().toISOString() });
    const attempt = started.events[0]?.type === 'BuildStarted' ? started.events[0].data.attempt : undefined;
    if (attempt === undefined || started.state.status === 'none') return;
    logger.info({ submissionId, attempt }, 'build started');

    let outcome;
    try {
      const archive = await storage.artifacts.get(started.state.artifactKey);
      outcome = await buildAgent({
        submissionId,
        archive,
        environmentId: started.state.environmentId,
        buildsDir: storage.buildsDir,
        dataDir: services.config.dataDir,
        timeoutMs: services.config.ARENA_BUILD_TIMEOUT_SEC * 1000,
        engine: options.engine,
        uidPool: options.uidPool,
      });
    } catch (error) {
      // Not the code's fault (e.g. the archive is gone): recorded as a failed build, which can be rebuilt.
      logger.error({ err: error, submissionId }, 'build could not run');
      outcome = { ok: false as const, reason: `build could not run: ${error instanceof Error ? error.message : String(error)}`, log: '' };
    }
    const now = services.now().toISOString();
    if (outcome.ok) {
      const { agentDir, pythonExecutable, environmentRef, log } = outcome;
      await handleSubmissionCommand(ctx, submissionId, { type: 'SucceedBuild', attempt, agentDir, pythonExecutable, environmentRef, log, now });
    } else {
      await handleSubmissionCommand(ctx, submissionId, { type: 'FailBuild', attempt, reason: outcome.reason, log: outcome.log, now });
    }
    logger.info({ submissionId, attempt, ok: outcome.ok, ...(outcome.ok ? {} : { reason: outcome.reason }) }, 'build finished');
  };

  const consumer = await consumeEvents(services, 'builds', ['submission'], {
    SubmissionReceived: (event) => build(event, event.data.submissionId),
    RebuildRequested: (event) => build(event, event.data.submissionId),
    async BuildSucceeded(event) {
      await activateSubmission(workerCommandContext(services, 'builds', event), event.data.agentId, event.data.submissionId);
    },
  });
  return { name: 'builds', stop: () => consumer.stop() };
}
