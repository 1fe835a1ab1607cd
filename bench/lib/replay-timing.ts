import type { BenchRow } from './bench-table';

/**
 * What `arena replay` reports on stderr about its own time (src/runtime/ops/ops-commands.ts):
 * the replay itself (reading the history, applying it, swapping in), and the start-up before it
 * (node, loading modules, starting the embedded PostgreSQL, migrations). The replay rows compare
 * the replay with one raw read pass over an already running server, so the start-up is reported
 * in a row of its own rather than charged to one side only.
 */
export interface ReplayTiming {
  replaySeconds: number;
  startupSeconds: number;
  /** The CLI's own CPU (user + system) during the replay, when it reports it. */
  cpuSeconds?: number;
}

export function replayTiming(stderr: string): ReplayTiming {
  const match = /arena replay: replayed in ([\d.]+) s, after a start-up of ([\d.]+) s/.exec(stderr);
  if (!match) throw new Error(`arena replay did not report its timing; stderr ends with:\n${stderr.slice(-2000)}`);
  const cpu = /node CPU during the replay ([\d.]+) s/.exec(stderr);
  return { replaySeconds: Number(match[1]), startupSeconds: Number(match[2]), ...(cpu ? { cpuSeconds: Number(cpu[1]) } : {}) };
}

/**
 * The replay rows: the replay against one raw read pass (both sides with the engines already up:
 * the target's row), the whole command against the same pass (start-up included, no target), and
 * the start-up alone.
 */
export function replayRows(events: number, readPerSecond: number, timing: ReplayTiming & { wallSeconds: number }): Omit<BenchRow, 'bus'>[] {
  const replayPerSecond = events / timing.replaySeconds;
  const commandPerSecond = events / timing.wallSeconds;
  const round = (value: number, digits = 0) => Number(value.toFixed(digits));
  return [
    {
      measure: `replay all (${events.toLocaleString('en')} events) / raw read pass`,
      value: round(replayPerSecond),
      unit: 'events/s',
      reference: `${round(readPerSecond)} events/s`,
      ratio: replayPerSecond / readPerSecond,
      target: '≥ 0.5',
      met: replayPerSecond / readPerSecond >= 0.5,
    },
    {
      measure: `arena replay all command, start-up included / raw read pass`,
      value: round(commandPerSecond),
      unit: 'events/s',
      reference: `${round(readPerSecond)} events/s`,
      ratio: commandPerSecond / readPerSecond,
      target: '-',
      met: null,
    },
    { measure: 'arena replay start-up (node, modules, embedded PostgreSQL, migrations)', value: round(timing.startupSeconds, 2), unit: 's', reference: '-', ratio: null, target: '-', met: null },
    ...(timing.cpuSeconds === undefined
      ? []
      : [{ measure: 'arena replay all, node CPU per event during the replay', value: round((timing.cpuSeconds * 1e6) / events, 1), unit: 'µs', reference: '-', ratio: null, target: '-', met: null }]),
  ];
}
