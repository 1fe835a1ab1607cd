/**
 * Runs one match: starts both agents in the sandbox, plays the environment loop, records the
 * replay. An agent that crashes, times out, answers garbage or breaks a limit forfeits with a
 * recorded reason and the match still returns a result; both sandboxes are always killed.
 * Only infrastructure problems (no sandbox on this machine, unknown environment) throw.
 *
 * The match is played on a thread of its own (match-thread.ts, match-play.ts), which blocks
 * while it waits for the agents; the calling thread's event loop stays free. The agents' uids
 * come from the caller's pool, here.
 */
import { randomUUID } from 'node:crypto';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { getEnvironment, type EnvironmentOptions } from '../../domain/arena/environments/registry';
import { UnavailableError } from '../../domain/shared/errors';
import { monotonicMs } from '../../infrastructure/sandbox/doorbell';
import { detectSandboxEngine, type SandboxEngine } from '../../infrastructure/sandbox/sandbox-engine';
import { defaultUidPool, type UidPool } from '../../infrastructure/sandbox/uid-pool';
import { matchLimitsSchema, type MatchAgent, type MatchLimitsInput, type MatchResult, type MatchThreadInput, type MatchThreadMessage } from './match-types';

export { matchLimitsSchema, type MatchAgent, type MatchLimits, type MatchLimitsInput, type MatchResult, type MatchThreadMessage } from './match-types';

export interface RunMatchInput {
  readonly matchId?: string;
  readonly environmentId: string;
  readonly environmentOptions?: EnvironmentOptions;
  readonly seed: number;
  readonly agents: readonly [MatchAgent, MatchAgent];
  readonly limits?: MatchLimitsInput;
  /** Detected on this machine when absent. */
  readonly engine?: SandboxEngine;
  readonly uidPool?: UidPool;
  readonly runtimeDir?: string;
}

export async function runMatch(input: RunMatchInput): Promise<MatchResult> {
  const startedAtMs = monotonicMs();
  const limits = matchLimitsSchema.parse(input.limits ?? {});
  getEnvironment(input.environmentId, input.environmentOptions); // an unknown environment throws here
  const engine = input.engine ?? detectSandboxEngine();
  const uidPool = input.uidPool ?? defaultUidPool;
  const uids: [number | null, number | null] = engine.dedicatedUids && engine.kind !== 'none' ? [uidPool.acquire(), uidPool.acquire()] : [null, null];
  try {
    return await playInMatchThread({
      matchId: input.matchId ?? `match-${randomUUID()}`,
      environmentId: input.environmentId,
      ...(input.environmentOptions ? { environmentOptions: input.environmentOptions } : {}),
      seed: input.seed,
      agents: input.agents,
      limits,
      engine,
      uids,
      ...(input.runtimeDir ? { runtimeDir: input.runtimeDir } : {}),
      startedAtMs,
    });
  } finally {
    for (const uid of uids) if (uid !== null) uidPool.release(uid);
  }
}

/** Match threads kept for the next match (starting one costs an isolate and loading the modules). */
const MAX_IDLE_THREADS = 1;
const idleThreads: Worker[] = [];

/**
 * Starts a match thread (match-thread.ts). From the TypeScript sources (tests, benchmarks) the
 * thread loads them through sucrase's require hook, which starts in a fraction of ts-node's time.
 */
function startMatchThread(): Worker {
  const extension = extname(__filename);
  const thread = new Worker(join(__dirname, `match-thread${extension}`), {
    execArgv: extension === '.ts' ? ['--require', 'sucrase/register/ts'] : [],
  });
  thread.unref();
  return thread;
}

/** Starts a match thread ahead of the first match (the `matches` role does at start). */
export function warmMatchThread(): void {
  if (idleThreads.length < MAX_IDLE_THREADS) idleThreads.push(startMatchThread());
}

/** Plays the match on an idle match thread (or a new one), which is kept for the next match. */
function playInMatchThread(input: MatchThreadInput): Promise<MatchResult> {
  const thread = idleThreads.pop() ?? startMatchThread();
  thread.ref(); // the match keeps this process alive, as its agents' pipes used to
  return new Promise<MatchResult>((resolve, reject) => {
    const done = (reusable: boolean): void => {
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
      thread.unref();
      if (reusable && idleThreads.length < MAX_IDLE_THREADS) idleThreads.push(thread);
      else void thread.terminate();
    };
    const onMessage = (message: MatchThreadMessage): void => {
      done(true);
      if (message.ok) resolve(message.result);
      else reject(message.error.name === 'UnavailableError' ? new UnavailableError(message.error.message) : new Error(message.error.message));
    };
    const onError = (error: Error): void => {
      done(false);
      reject(error);
    };
    const onExit = (code: number): void => {
      done(false);
      reject(new Error(`the match thread exited (code ${code}) without a result`));
    };
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
    thread.postMessage(input);
  });
}
