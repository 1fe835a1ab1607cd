/**
 * CPU time of processes and threads read from /proc, for benchmarks that split CPU by who spent it
 * (this process's main thread, its other threads, the embedded PostgreSQL below it).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** utime + stime of a /proc `stat` file, in ms (clock ticks of 10 ms); 0 when it is gone. */
export function cpuMsOf(statPath: string): number {
  try {
    const fields = readFileSync(statPath, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0; // gone meanwhile
  }
}

/** The processes below this one (the embedded PostgreSQL's postmaster and its backends), by /proc. */
export function descendantPids(): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const below = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (below.has(parent) && !below.has(pid)) {
        below.add(pid);
        grew = true;
      }
    }
  }
  below.delete(process.pid);
  return [...below];
}

/** CPU ms of every process below this one, summed. */
export function descendantsCpuMs(): number {
  return descendantPids().reduce((sum, pid) => sum + cpuMsOf(`/proc/${pid}/stat`), 0);
}
