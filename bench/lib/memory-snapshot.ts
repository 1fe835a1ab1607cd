/**
 * Where this process's resident memory is, from `/proc/self/smaps` and chDB's own accounting: the
 * V8 heap, external/ArrayBuffers, libchdb's mapped pages (file-backed: the library's code and data
 * touched so far), other files, anonymous memory (V8, malloc arenas, chDB's allocations), and
 * chDB's `MemoryTracking` and cache sizes.
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { z } from 'zod';
import type { Analytics } from '../../src/infrastructure/analytics/analytics';

export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Resident bytes of libchdb.so's mappings (file-backed and its own private data). */
  libchdbRss: number;
  /** Resident bytes of other file-backed mappings. */
  otherFileRss: number;
  /** Resident anonymous bytes outside libchdb's mappings (V8 heap, malloc arenas, chDB's allocations). */
  anonRss: number;
  threads: number;
  /** chDB's MemoryTracking metric (what its allocator accounting says it holds). */
  chdbMemoryTracking: number;
  /** chDB's cache sizes in bytes (mark, uncompressed, mmap, query, …), by metric name. */
  chdbCaches: Record<string, number>;
  /** V8's heap spaces: committed (`size`) and used bytes of each. */
  heapSpaces: Array<{ name: string; size: number; used: number }>;
  /** chDB's own allocator (libchdb carries jemalloc; `system.jemalloc_stats`), in bytes; null when it has none. */
  chdbJemalloc: JemallocTotals | null;
}

/** jemalloc's process totals: `allocated` live, `resident` the pages it keeps (live, dirty, metadata), `retained` unmapped address space. */
export interface JemallocTotals {
  allocated: number;
  active: number;
  resident: number;
  mapped: number;
  retained: number;
}

const JemallocStats = z.object({ stats: z.string() });

/** The totals line of `system.jemalloc_stats` ("Allocated: …, active: …, resident: …"), or null. */
async function chdbJemalloc(analytics: Analytics): Promise<JemallocTotals | null> {
  const rows = await analytics.query('SELECT stats FROM system.jemalloc_stats', {}, JemallocStats).catch(() => []);
  const line = /^Allocated: (\d+), active: (\d+), metadata: \d+.*?resident: (\d+), mapped: (\d+), retained: (\d+)/m.exec(rows[0]?.stats ?? '');
  if (!line) return null;
  const [allocated, active, resident, mapped, retained] = line.slice(1).map(Number) as [number, number, number, number, number];
  return { allocated, active, resident, mapped, retained };
}

function smaps(): { libchdbRss: number; otherFileRss: number; anonRss: number } {
  let libchdbRss = 0;
  let otherFileRss = 0;
  let anonRss = 0;
  let current: 'libchdb' | 'file' | 'anon' = 'anon';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) {
      const path = header[2] ?? '';
      current = path.includes('libchdb') ? 'libchdb' : header[1] !== '0' && path.startsWith('/') ? 'file' : 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const bytes = Number(rss[1]) * 1024;
    if (current === 'libchdb') libchdbRss += bytes;
    else if (current === 'file') otherFileRss += bytes;
    else anonRss += bytes;
  }
  return { libchdbRss, otherFileRss, anonRss };
}

const Metric = z.object({ metric: z.string(), value: z.coerce.number() });

/** Snapshot of this process; `gc: false` reads it as the app left it (no forced collection first). */
export async function memorySnapshot(analytics: Analytics, options: { gc?: boolean } = {}): Promise<MemorySnapshot> {
  if (options.gc !== false) (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  const heapSpaces = getHeapSpaceStatistics()
    .filter((space) => space.space_size > 0)
    .map((space) => ({ name: space.space_name.replace(/_space$/, ''), size: space.space_size, used: space.space_used_size }));
  const metrics = await analytics.query(
    `SELECT metric, toFloat64(value) AS value FROM system.metrics WHERE metric = 'MemoryTracking' OR metric ILIKE '%CacheBytes' OR metric ILIKE '%Cache%Size%'`,
    {},
    Metric,
  );
  const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  return {
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    ...smaps(),
    threads,
    chdbMemoryTracking: metrics.find((m) => m.metric === 'MemoryTracking')?.value ?? 0,
    chdbCaches: Object.fromEntries(metrics.filter((m) => m.metric !== 'MemoryTracking' && m.value > 0).map((m) => [m.metric, m.value])),
    heapSpaces,
    chdbJemalloc: await chdbJemalloc(analytics),
  };
}

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)}`;

/** One line: RSS and its parts in MB. */
export function describeMemory(s: MemorySnapshot): string {
  return (
    `rss ${mb(s.rss)} MB = libchdb ${mb(s.libchdbRss)} + other files ${mb(s.otherFileRss)} + anonymous ${mb(s.anonRss)} ` +
    `(V8 heap ${mb(s.heapTotal)} of which used ${mb(s.heapUsed)} [${s.heapSpaces.map((space) => `${space.name} ${mb(space.size)}/${mb(space.used)}`).join(', ')}]; ` +
    `external ${mb(s.external)}, ArrayBuffers ${mb(s.arrayBuffers)}); ` +
    `chDB MemoryTracking ${mb(s.chdbMemoryTracking)} MB` +
    (s.chdbJemalloc ? `, its jemalloc resident ${mb(s.chdbJemalloc.resident)} MB (allocated ${mb(s.chdbJemalloc.allocated)})` : '') +
    `; ${s.threads} threads`
  );
}
