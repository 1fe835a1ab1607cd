/**
 * Gives the V8 heap's garbage back when the process goes idle after work (docs/operations.md,
 * "Memory").
 *
 * V8 collects when allocation asks for it, so what a burst of work left behind (dead upload bodies,
 * their ArrayBuffers, fragmented old-space pages) stays resident until the next collection. Its
 * memory reducer is meant to run that collection once the process is idle, but after telemetry
 * ingest it did not within 45 s (bench/app-bench.ts logs "0 major GCs of V8's own"); one collection
 * took RSS from 592 to ~440 MB, the start being 431. So each time the event loop goes from busy to
 * idle, this runs one full collection. It needs `gc`, which node exposes with `--expose-gc` (set by
 * `npm start` and the image); without it this does nothing and says so once.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logging/logger';
import type { RunningRole } from '../running-role';

/** One window's event-loop utilization at or above this counts as work. */
export const BUSY_UTILIZATION = 0.1;
/** One window's event-loop utilization below this counts as idle. */
export const IDLE_UTILIZATION = 0.02;
const WINDOW_MS = 5_000;

export interface IdleHeapState {
  /** Work was seen since the last collection. */
  workSinceCollect: boolean;
}

/** The rule: collect once in the first idle window after work, then not again until more work. */
export function nextIdleHeapState(state: IdleHeapState, utilization: number): { state: IdleHeapState; collect: boolean } {
  if (utilization >= BUSY_UTILIZATION) return { state: { workSinceCollect: true }, collect: false };
  if (utilization < IDLE_UTILIZATION && state.workSinceCollect) return { state: { workSinceCollect: false }, collect: true };
  return { state, collect: false };
}

type Collect = () => void;

/** `gc` when node runs with `--expose-gc`, else null. */
export function exposedGc(): Collect | null {
  const candidate = (globalThis as { gc?: unknown }).gc;
  return typeof candidate === 'function' ? (candidate as Collect) : null;
}

/** Starts the idle check (an unref'd timer); a role whose stop ends it. */
export function startIdleHeapRelease(logger: Logger, collect: Collect | null = exposedGc(), windowMs: number = WINDOW_MS): RunningRole {
  if (!collect) {
    logger.info('node runs without --expose-gc: garbage left by a burst of work stays resident until V8 collects on its own; start node with --expose-gc');
    return { name: 'idle-heap-release', stop: async () => undefined };
  }
  let state: IdleHeapState = { workSinceCollect: false };
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, last);
    last = now;
    const next = nextIdleHeapState(state, window.utilization);
    state = next.state;
    if (!next.collect) return;
    const startedAt = performance.now();
    collect();
    logger.debug({ ms: Math.round(performance.now() - startedAt) }, 'idle: heap collected');
  }, windowMs);
  timer.unref();
  return {
    name: 'idle-heap-release',
    stop: async () => {
      clearInterval(timer);
    },
  };
}
