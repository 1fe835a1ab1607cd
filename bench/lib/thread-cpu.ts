/**
 * CPU used by each thread of this process between two snapshots, read from
 * `/proc/self/task/<tid>/stat` (utime + stime, in clock ticks of 10 ms). The bench's process holds the
 * app, its chDB threads, the load generator's worker and libuv's pool: this names which of them a
 * process-wide `process.cpuUsage()` reading came from.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ on every architecture node runs on. */
const TICKS_PER_SECOND = 100;

export type ThreadTicks = ReadonlyMap<string, { name: string; ticks: number }>;

/** utime + stime of every live thread of this process, by thread id. */
export function threadTicks(): ThreadTicks {
  const threads = new Map<string, { name: string; ticks: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // "tid (comm) state ..." where comm may hold spaces or parentheses: split at the last ')'.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // After the comm, field 0 is state; utime and stime are fields 11 and 12 (stat(5): 14 and 15).
    threads.set(tid, { name, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return threads;
}

/** Per thread name, the share of a core used between the two snapshots, largest first (threads of one name summed). */
export function busiestThreads(before: ThreadTicks, after: ThreadTicks, seconds: number, top = 5): { name: string; percent: number }[] {
  const byName = new Map<string, number>();
  for (const [tid, now] of after) {
    const used = now.ticks - (before.get(tid)?.ticks ?? 0);
    if (used > 0) byName.set(now.name, (byName.get(now.name) ?? 0) + used);
  }
  return [...byName.entries()]
    .map(([name, ticks]) => ({ name, percent: (ticks / TICKS_PER_SECOND / seconds) * 100 }))
    .sort((a, b) => b.percent - a.percent)
    .slice(0, top);
}
