/**
 * glibc malloc settings the long-running arena processes need (docs/performance.md, "Memory").
 *
 * An upload moves buffers of hundreds of KB through this process (the HTTP body, PostgreSQL wire
 * buffers, the ClickHouse insert body). glibc serves blocks above its mmap threshold (128 KiB) with
 * mmap and gives them back on free, but each such free raises the threshold (up to 32 MiB), after
 * which the same buffers come from its heaps, where a few live small blocks keep the freed pages
 * from ever going back: RSS stayed ~100 MB higher after 200k points. A fixed threshold turns that
 * adjustment off, so large buffers always go back to the kernel.
 *
 * glibc reads GLIBC_TUNABLES once, when the process starts: it cannot be set from inside. The
 * image (so compose and Kubernetes), `npm start` and the bench set it; a process started without it
 * says so in its log.
 */
export const ALLOCATOR_TUNABLES = 'glibc.malloc.mmap_threshold=131072';

const TUNABLE_NAME = ALLOCATOR_TUNABLES.split('=')[0]!;

/** True when this process's environment sets the mmap threshold (to any value: the operator's choice stands). */
export function allocatorTunablesSet(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.GLIBC_TUNABLES ?? '').split(':').some((setting) => setting.split('=')[0] === TUNABLE_NAME);
}

/** `env` with ALLOCATOR_TUNABLES added to GLIBC_TUNABLES (kept as it is when it already sets the threshold). */
export function withAllocatorTunables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (allocatorTunablesSet(env)) return env;
  const current = env.GLIBC_TUNABLES;
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${ALLOCATOR_TUNABLES}` : ALLOCATOR_TUNABLES };
}

/** Whether the tunables matter here: glibc on Linux (musl, macOS and Windows ignore them). */
export function usesGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return typeof header?.header?.glibcVersionRuntime === 'string';
}
