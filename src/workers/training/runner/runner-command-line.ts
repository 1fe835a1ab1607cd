/**
 * `arena runner --server URL --token T --environments AssettoCorsaEnv-v1`: the command line of
 * the trainer runner. It needs no server configuration (no database, no secrets): only the
 * server's URL, a runner token, and TRAINING_EXTERNAL_TRAINERS naming the local trainer per
 * environment.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UnauthorizedError } from '../../../domain/shared/errors';
import { externalTrainersVariable } from '../../../infrastructure/config/training-config';
import { createLogger } from '../../../infrastructure/logging/logger';
import { firstShutdownSignal } from '../../../infrastructure/process/shutdown-signal';
import { RunnerRequestError } from './runner-api-client';
import { TrainerRunner } from './trainer-runner';

export const RUNNER_USAGE = `usage: arena runner --server URL --token TOKEN --environments ENV[,ENV...] [options]

  --server URL               the API server (its root, or .../api/v1); or ARENA_SERVER
  --token TOKEN              a runner token (POST /api/v1/training/runners/tokens); or ARENA_RUNNER_TOKEN
  --environments LIST        environments to serve, comma-separated; each needs a trainer in
                             TRAINING_EXTERNAL_TRAINERS ({"<env>": {"command": [...], "algorithms": [...]}})
  --runner-id NAME           this runner's name (default host/pid/random)
  --max-jobs N               trainer processes at once (default 1)
  --progress-interval-ms MS  at most one progress report per MS (default 2000)
  --claim-wait-sec S         long-poll wait per claim request, 0-30 (default 20)
  --work-dir DIR             scratch directory for artefacts (default: a temp dir)`;

const Options = z.object({
  server: z.url(),
  token: z.string().min(1),
  environments: z.array(z.string().min(1)).min(1),
  runnerId: z.string().regex(/^[A-Za-z0-9_.:@/-]{1,100}$/).optional(),
  maxJobs: z.coerce.number().int().min(1).max(64).default(1),
  progressIntervalMs: z.coerce.number().int().min(0).default(2000),
  claimWaitSec: z.coerce.number().int().min(0).max(30).default(20),
  workDir: z.string().min(1).optional(),
});

export async function runRunnerCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const shutdownSignal = firstShutdownSignal();
  let parsedArgs;
  try {
    parsedArgs = parseArgs({
      args: argv,
      options: {
        server: { type: 'string' },
        token: { type: 'string' },
        environments: { type: 'string', multiple: true },
        'runner-id': { type: 'string' },
        'max-jobs': { type: 'string' },
        'progress-interval-ms': { type: 'string' },
        'claim-wait-sec': { type: 'string' },
        'work-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`arena runner: ${error instanceof Error ? error.message : String(error)}\n\n${RUNNER_USAGE}`);
    return 2;
  }
  if (parsedArgs.help) {
    console.log(RUNNER_USAGE);
    return 0;
  }
  const options = Options.safeParse({
    server: parsedArgs.server ?? env.ARENA_SERVER,
    token: parsedArgs.token ?? env.ARENA_RUNNER_TOKEN,
    environments: (parsedArgs.environments ?? []).flatMap((list) => list.split(',')).map((name) => name.trim()).filter(Boolean),
    runnerId: parsedArgs['runner-id'],
    maxJobs: parsedArgs['max-jobs'],
    progressIntervalMs: parsedArgs['progress-interval-ms'],
    claimWaitSec: parsedArgs['claim-wait-sec'],
    workDir: parsedArgs['work-dir'],
  });
  if (!options.success) {
    console.error(`arena runner: ${z.prettifyError(options.error)}\n\n${RUNNER_USAGE}`);
    return 2;
  }
  const trainers = externalTrainersVariable.safeParse(env.TRAINING_EXTERNAL_TRAINERS ?? '{}');
  if (!trainers.success) {
    console.error(`arena runner: TRAINING_EXTERNAL_TRAINERS: ${z.prettifyError(trainers.error)}`);
    return 2;
  }
  const missing = options.data.environments.filter((environment) => !trainers.data[environment]);
  if (missing.length > 0) {
    console.error(`arena runner: no trainer for ${missing.join(', ')} in TRAINING_EXTERNAL_TRAINERS (configured: ${Object.keys(trainers.data).join(', ') || 'none'})`);
    return 2;
  }
  const logger = createLogger({ name: 'arena-runner', level: env.LOG_LEVEL ?? 'info' });
  const runner = new TrainerRunner({
    server: options.data.server,
    token: options.data.token,
    environments: options.data.environments,
    trainers: trainers.data,
    runnerId: options.data.runnerId,
    maxConcurrentJobs: options.data.maxJobs,
    progressIntervalMs: options.data.progressIntervalMs,
    claimWaitSec: options.data.claimWaitSec,
    workDir: options.data.workDir,
    evaluationEpisodes: 10,
    logger,
  });
  const running = runner.start();
  const outcome = await Promise.race([running.then(() => 'ended' as const, (error: unknown) => error), shutdownSignal]);
  if (outcome === 'ended') return 0;
  if (typeof outcome === 'string') {
    logger.info({ signal: outcome }, 'stopping: running jobs are handed back');
    await runner.stop();
    return 0;
  }
  await runner.stop();
  if (outcome instanceof UnauthorizedError || outcome instanceof RunnerRequestError) {
    logger.error({ reason: outcome.message }, 'the server refused this runner');
    return 2;
  }
  logger.error({ err: outcome }, 'trainer runner failed');
  return 1;
}
