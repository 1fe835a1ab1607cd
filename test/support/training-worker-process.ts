/**
 * The `training` worker role alone in a child process, as `arena worker training` runs it, for
 * tests that kill it: configuration from the environment (same DATABASE_URL and TOPIC_PREFIX as
 * the test's system), the role from workerRoles. Prints one JSON line when ready and one whenever
 * the set of running trainers changes: `{"workerId": ..., "active": [{jobId, attempt, pid}]}`.
 * Run with `node -r ts-node/register/transpile-only test/support/training-worker-process.ts`.
 */
import { loadConfig } from '../../src/infrastructure/config/config';
import { createLogger } from '../../src/infrastructure/logging/logger';
import { workerRoles } from '../../src/runtime/background-roles';
import { openServices } from '../../src/runtime/open-services';
import type { TrainingWorker } from '../../src/workers/training/training-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const opened = await openServices(config, createLogger({ level: config.LOG_LEVEL }));
  const start = workerRoles.training;
  if (!start) throw new Error('no training worker role registered');
  const role = (await start(opened.services)) as Awaited<ReturnType<typeof start>> & { worker: TrainingWorker };
  let last = '';
  const report = () => {
    const line = JSON.stringify({ workerId: role.worker.workerId, active: role.worker.activeJobs() });
    if (line !== last) process.stdout.write(`${line}\n`);
    last = line;
  };
  report();
  setInterval(report, 100);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
