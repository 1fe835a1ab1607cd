import type { Config } from '../../infrastructure/config/config';
import type { CommandServices } from '../../commands/command-states';
import { adminRequest } from './admin-channel';
import { PROJECTION_QUARANTINE_TABLE, type QuarantinedEvent } from '../../projections/projection-quarantine';
import { runReplay, type ReplayProgressReport, type ReplayResultRow } from './replay-runner';
import { readSystemStatus, type SystemStatus } from './system-status';

/** Runs `work` with the engines opened by this process (nothing else runs on this DATA_DIR). */
export type WithServices = <T>(work: (services: CommandServices, close: () => Promise<void>) => Promise<T>) => Promise<T>;

const noAppRunning = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ECONNREFUSED');

/** `arena status [--json]`: asks the running app, or reads the engines itself; exit 1 when something is stuck. */
export async function statusCommand(config: Config, args: string[], withServices: WithServices): Promise<number> {
  const json = args.includes('--json');
  let status: SystemStatus;
  let source: string;
  try {
    const answer = await adminRequest(config.dataDir, 'GET', '/status');
    if (answer.status !== 200) throw new Error(`the running app answered ${answer.status}: ${answer.body}`);
    status = JSON.parse(answer.body) as SystemStatus;
    source = 'running app (admin channel)';
  } catch (error) {
    if (!noAppRunning(error)) throw error;
    status = await withServices(async (services, close) => {
      try {
        return await readSystemStatus(services);
      } finally {
        await close();
      }
    });
    source = 'engines (no app answers on the admin channel)';
  }
  if (json) console.log(JSON.stringify({ source, ...status }, null, 2));
  else console.log(formatStatus(status, source));
  return status.ok ? 0 : 1;
}

export function formatStatus(status: SystemStatus, source: string): string {
  const rows: string[][] = [['KIND', 'NAME', 'POSITION', 'LAG', 'LAG_S', 'QUARANTINED', 'LAST_ERROR', 'STATE']];
  const n = (value: number | null) => (value === null ? '-' : String(Math.round(value)));
  const relay = status.relay;
  rows.push(['relay', 'main', relay.position ?? '-', `${relay.lag}${relay.lagCapped ? '+' : ''}`, n(relay.lagSeconds), '-', '-', relay.stuck ? 'STUCK' : 'ok']);
  for (const p of status.projections) {
    const state = p.stuck ? 'STUCK' : p.position === null ? 'not started' : 'ok';
    rows.push(['projection', `${p.name} (${p.store})`, n(p.position), n(p.lag), n(p.lagSeconds), String(p.quarantined), truncate(p.lastError ?? '-', 40), state]);
  }
  const projectionGroups = new Set(status.projections.map((p) => p.group));
  for (const g of status.consumerGroups.filter((g) => !projectionGroups.has(g.group))) {
    rows.push(['group', g.group, n(g.position), n(g.lag), n(g.lagSeconds), '-', '-', g.stuck ? 'STUCK' : 'ok']);
  }
  for (const w of status.workers) {
    rows.push(['process', `${truncate(w.roles.join(','), 40)} ${w.host}:${w.pid}`, '-', '-', '-', '-', '-', w.alive ? `alive (seen ${w.seenAt})` : `gone (seen ${w.seenAt})`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
  const queues = Object.entries(status.queues)
    .map(([kind, counts]) => `${kind}: ${Object.entries(counts).map(([s, c]) => `${s}=${c}`).join(' ') || 'none'}`)
    .join('; ');
  const verdict = status.ok ? 'OK' : `PROBLEMS:\n${status.problems.map((p) => `  - ${p}`).join('\n')}`;
  return `status from ${source} at ${status.at}\n\n${table}\n\nqueues: ${queues}\n${verdict}`;
}

function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

/** `arena replay <projection>`: through the running app when one answers, else with the engines opened here. */
export async function replayCommand(config: Config, name: string, withServices: WithServices): Promise<number> {
  const progress = progressPrinter();
  let results: ReplayResultRow[] | undefined;
  let failure: string | undefined;
  try {
    const answer = await adminRequest(config.dataDir, 'POST', `/replay/${encodeURIComponent(name)}`, (line) => {
      const message = line as { type: string; results?: ReplayResultRow[]; error?: string } & ReplayProgressReport;
      if (message.type === 'progress') progress(message);
      if (message.type === 'done') results = message.results;
      if (message.type === 'error') failure = message.error;
    });
    if (answer.status !== 200) failure = `the running app answered ${answer.status}: ${answer.body}`;
    else console.error('replayed through the running app (admin channel)');
  } catch (error) {
    if (!noAppRunning(error)) throw error;
    let timing: string | undefined;
    results = await withServices(async (services, close) => {
      // Process start (performance.now() counts from it) to here: node, modules, engines, migrations.
      const startedAt = performance.now();
      const cpuAtStart = process.cpuUsage();
      try {
        return await runReplay(services, name, progress);
      } finally {
        timing = replayTiming(startedAt, process.cpuUsage(cpuAtStart));
        await close();
      }
    });
    progress.finish();
    if (timing) console.error(timing);
  }
  progress.finish();
  if (failure !== undefined || !results) {
    console.error(`arena replay: ${failure ?? 'the running app ended the replay without a result'}`);
    return 1;
  }
  console.table(results.map(({ quarantined, ...counts }) => ({ ...counts, events_quarantined: quarantined.length })));
  return reportQuarantined(results.flatMap((row) => row.quarantined));
}

/**
 * How long the replay itself took (reading, applying, swapping in) and the start-up before it,
 * a line on stderr that `npm run bench:replay` reads: the start-up (embedded PostgreSQL, modules)
 * is not what a read pass over the store is compared with, so it is reported apart. Beside it, the
 * CPU this process used during the replay (user + system: on a shared machine the wall clock
 * moves with the load, the CPU much less).
 */
function replayTiming(startedAt: number, cpu: NodeJS.CpuUsage): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const cpuSeconds = ((cpu.user + cpu.system) / 1e6).toFixed(3);
  return `arena replay: replayed in ${seconds(performance.now() - startedAt)} s, after a start-up of ${seconds(startedAt)} s (node, modules, engines, migrations); node CPU during the replay ${cpuSeconds} s`;
}

/** Exit status of a replay that finished but had to quarantine events (they are listed on stderr). */
const EXIT_EVENTS_QUARANTINED = 3;

function reportQuarantined(quarantined: QuarantinedEvent[]): number {
  if (quarantined.length === 0) return 0;
  console.error(`arena replay: ${quarantined.length} event(s) could not be applied and were quarantined (table ${PROJECTION_QUARANTINE_TABLE}):`);
  for (const event of quarantined) {
    console.error(`  ${event.projection}: ${event.eventType} ${event.streamId}@${event.revision} position ${event.position}: ${event.error}`);
  }
  return EXIT_EVENTS_QUARANTINED;
}

/** Progress on a terminal (one rewritten line: done of total, rate, ETA); otherwise one JSON line a second. */
function progressPrinter(): ((report: ReplayProgressReport) => void) & { finish(): void } {
  const tty = process.stderr.isTTY === true;
  const startedAt = new Map<string, number>();
  let lastLineAt = 0;
  let drawn = false;
  const print = (report: ReplayProgressReport) => {
    const start = startedAt.get(report.projection) ?? Date.now();
    startedAt.set(report.projection, start);
    if (!tty && Date.now() - lastLineAt < 1000) return;
    lastLineAt = Date.now();
    const seconds = Math.max((Date.now() - start) / 1000, 0.001);
    const rate = report.eventsRead / seconds;
    const total = report.eventsTotal;
    const percent = total ? ` (${Math.min(100, (100 * report.eventsRead) / total).toFixed(1)}%)` : '';
    const eta = total && rate > 0 ? `, ETA ${formatSeconds(Math.max(0, total - report.eventsRead) / rate)}` : '';
    const line = `[${report.step}/${report.steps}] ${report.projection}: ${report.eventsRead} of ${total ?? '?'} events${percent}, ${Math.round(rate)} events/s${eta}, ${report.eventsApplied} applied`;
    if (tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      drawn = true;
    } else {
      // Not a terminal (a log collector, CI): one structured line a second, the readable line as `msg`.
      const etaSeconds = total && rate > 0 ? Math.round(Math.max(0, total - report.eventsRead) / rate) : null;
      const fields = { msg: line, projection: report.projection, step: report.step, steps: report.steps, events_done: report.eventsRead, events_total: total, events_per_s: Math.round(rate), eta_s: etaSeconds, events_applied: report.eventsApplied };
      process.stderr.write(`${JSON.stringify(fields)}\n`);
    }
  };
  return Object.assign(print, {
    finish: () => {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  });
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes}m${Math.round(seconds % 60)}s` : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}
