/**
 * "Idle" for the memory row (bench/app-bench.ts, bench/memory-profile.ts): no work in flight in this
 * process, then RSS read once it has settled.
 *
 * - {@link waitForSystemIdle}: over one window, no consumer group's lag changed (a group that only
 *   reads new messages counts older ones as lag forever, so lag 0 is not the test), chDB runs no
 *   merge, and this process used under 5 % of a core (the app, its chDB threads and the bench are one
 *   process: a projection busy with a long batch or chDB still parsing an insert shows up here).
 * - {@link settledRss}: RSS sampled every second until V8 collected on its own and RSS stopped moving.
 *   A process that just went idle still gives memory back, without any call from us: V8's memory
 *   reducer collects, compacts and
 *   releases its heap about 8 s after the last major GC when allocation has stopped
 *   (`--gc-memory-reducer-start-delay-ms`, 8000 in Node 20), and chDB's jemalloc returns dirty pages
 *   after `dirty_decay_ms` (5 s) from its background threads. The row reads RSS once both had their
 *   chance, and says how long it waited.
 */
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { z } from 'zod';
import type { BenchApp } from './bench-app';

const WINDOW_MS = 2000;
const IDLE_CPU_SHARE = 0.05;

/** This process's resident set in bytes (VmRSS), without a gc() or any allocation worth the name. */
export function currentRss(): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

async function groupLags(app: BenchApp): Promise<string> {
  const namespace = app.env.TOPIC_PREFIX ?? '';
  const parts: number[] = [];
  for (const status of app.bus.consumerStatuses()) {
    const group = status.groupId.startsWith(namespace) ? status.groupId.slice(namespace.length) : status.groupId;
    parts.push(await app.bus.groupLag(group, status.topics));
  }
  return parts.join(',');
}

const Count = z.object({ n: z.coerce.number() });

/** Resolves once one whole window passed with no lag change, no chDB merge and under 5 % of a core used; throws after `timeoutMs`. */
export async function waitForSystemIdle(app: BenchApp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let previous = await groupLags(app);
  for (;;) {
    const cpu = process.cpuUsage();
    const startedAt = performance.now();
    await new Promise((done) => setTimeout(done, WINDOW_MS));
    const used = process.cpuUsage(cpu);
    const cpuShare = (used.user + used.system) / 1000 / (performance.now() - startedAt);
    const current = await groupLags(app);
    const merges = (await app.analytics.query('SELECT count() AS n FROM system.merges', {}, Count))[0]?.n ?? 0;
    if (current === previous && merges === 0 && cpuShare < IDLE_CPU_SHARE) return;
    if (Date.now() > deadline) {
      throw new Error(`not idle after ${timeoutMs} ms (lags ${current}, chDB merges ${merges}, ${(cpuShare * 100).toFixed(0)} % of a core)`);
    }
    previous = current;
  }
}

export interface SettledRss {
  /** Seconds waited (at least `minSeconds`). */
  seconds: number;
  /** RSS in bytes at each second, first to last. */
  trace: number[];
  /** Major GCs V8 ran on its own while we waited (its memory reducer's among them). */
  majorGcs: number;
}

/**
 * Samples RSS every second, without touching the heap, until at least `minSeconds` passed, V8 ran
 * a major GC of its own (its memory reducer, which is what hands an idle heap back) and the 5 samples
 * since lie within 1 % of each other; or until `maxSeconds` passed.
 */
export async function settledRss(minSeconds: number, maxSeconds: number): Promise<SettledRss> {
  let majorGcs = 0;
  let samplesSinceGc = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (((entry as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        majorGcs += 1;
        samplesSinceGc = 0;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const trace = [currentRss()];
  const startedAt = performance.now();
  const elapsed = () => (performance.now() - startedAt) / 1000;
  try {
    for (;;) {
      await new Promise((done) => setTimeout(done, 1000));
      trace.push(currentRss());
      samplesSinceGc += 1;
      const last = trace.slice(-5);
      const steady = samplesSinceGc >= 5 && Math.max(...last) - Math.min(...last) <= 0.01 * Math.max(...last);
      if ((elapsed() >= minSeconds && majorGcs > 0 && steady) || elapsed() >= maxSeconds) return { seconds: Math.round(elapsed()), trace, majorGcs };
    }
  } finally {
    observer.disconnect();
  }
}
