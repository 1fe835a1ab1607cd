/**
 * Diagnostics only (bench:memory with BENCH_MEMORY_PROBE=1): calls a glibc function inside a
 * running process through gdb (attach, call, detach), e.g. `malloc_stats()` (per-arena bytes, to
 * the process's stderr) or `malloc_trim(0)` (what glibc could give back). Never used by the app.
 */
import { execFileSync } from 'node:child_process';

/** Calls each `expression` (gdb syntax, e.g. `(int)malloc_trim(0)`) in process `pid`; gdb's output, or why it could not. */
export function gdbCall(pid: number, expressions: readonly string[]): string {
  try {
    return execFileSync('gdb', ['-p', String(pid), '-batch', '-nx', ...expressions.flatMap((e) => ['-ex', `call ${e}`])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    })
      .split('\n')
      .filter((line) => /^\$\d+ =/.test(line))
      .join('\n');
  } catch (error) {
    return `gdb failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}
