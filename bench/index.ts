/**
 * `npm run bench [-- --quick]`: every benchmark of issue 9, one table of ratios, each measured in
 * this run against the same engines (docs/performance.md explains each row and how to reproduce).
 *
 * - The system rows run the real app in a child process per bus (bench/app-bench.ts): the in-process
 *   PostgreSQL bus always, Kafka when KAFKA_BROKERS is set (SKIPPED otherwise).
 * - The agent protocol (bench/pong-steps.ts) and the token check (bench/token-check.ts) run here.
 * `arena replay` is run from dist/: `npm run bench` builds first.
 *
 * Sizes by environment: BENCH_SECONDS, BENCH_INGEST_POINTS, BENCH_MEMORY_POINTS, BENCH_IDLE_SECONDS,
 * BENCH_PONG_STEPS, BENCH_TOKEN_CHECKS; `--quick` (or BENCH_QUICK=1) picks small ones.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatBenchTable, type BenchRow } from './lib/bench-table';
import { measureAgentProtocol } from './pong-steps';
import { measureTokenCheck } from './token-check';
import { withAllocatorTunables } from '../src/infrastructure/process/allocator-tunables';
import { runBench } from './lib/run-bench';

const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

function runVariant(bus: 'postgres' | 'kafka'): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-result-'));
  const resultFile = join(dir, 'rows.json');
  return new Promise<BenchRow[]>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '-r', 'ts-node/register/transpile-only', join(__dirname, 'app-bench.ts')], {
      // With the allocator setting the app is deployed with (Dockerfile, `npm start`).
      env: withAllocatorTunables({ ...process.env, BENCH_BUS: bus, BENCH_RESULT_FILE: resultFile, ...(QUICK ? { BENCH_QUICK: '1' } : {}) }),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`bench/app-bench.ts (${bus}) exited with ${code}`);
        resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as BenchRow[]);
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

const skipped = (measure: string, bus: string, why: string): BenchRow => ({ measure, bus, value: Number.NaN, unit: `SKIPPED: ${why}`, reference: '-', ratio: null, target: '-', met: null });

async function main(): Promise<void> {
  const startedAt = performance.now();
  const rows: BenchRow[] = [];
  console.error(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}${QUICK ? ', --quick' : ''}`);

  rows.push(...(await runVariant('postgres')));
  if (process.env.KAFKA_BROKERS) {
    rows.push(...(await runVariant('kafka')));
  } else {
    for (const measure of ['commands c=32 / raw append tx', 'telemetry ingest / raw chDB insert']) rows.push(skipped(measure, 'Kafka bus', 'KAFKA_BROKERS not set'));
  }

  const protocol = await measureAgentProtocol(QUICK ? { environmentSteps: 100_000, matchSteps: 5_000 } : {});
  if (protocol === null) {
    rows.push(skipped('agent protocol per step (pong, 2 sandboxed agents)', '-', 'no sandbox engine'));
  } else {
    const perStep = protocol.wallMicrosPerStep;
    rows.push({ measure: 'agent protocol per step, wall (pong, 2 sandboxed agents)', bus: '-', value: Number(perStep.toFixed(1)), unit: 'µs', reference: `${protocol.floorWallMicrosPerStep.toFixed(1)} µs bare pipe ping-pong (${protocol.pipesFloorWallMicrosPerStep.toFixed(1)} real pipes + writeSync, ${protocol.blockingFloorWallMicrosPerStep.toFixed(1)} blocking + threads)`, ratio: perStep / protocol.floorWallMicrosPerStep, target: '≤ 40 µs', met: perStep <= 40 });
    rows.push({ measure: 'agent protocol per step, CPU of this process', bus: '-', value: Number(protocol.hostCpuMicrosPerStep.toFixed(1)), unit: 'µs', reference: `${protocol.floorHostCpuMicrosPerStep.toFixed(1)} µs bare pipe ping-pong (${protocol.pipesFloorHostCpuMicrosPerStep.toFixed(1)} real pipes + writeSync)`, ratio: protocol.hostCpuMicrosPerStep / protocol.floorHostCpuMicrosPerStep, target: '-', met: null });
    rows.push({ measure: 'agent protocol per step, CPU of both agents', bus: '-', value: Number(protocol.agentsCpuMicrosPerStep.toFixed(1)), unit: 'µs', reference: '-', ratio: null, target: '-', met: null });
  }
  const token = measureTokenCheck(QUICK ? 5_000 : 20_000);
  rows.push({
    measure: 'token check CPU (KeyObject) / secret as string',
    bus: '-',
    value: Number(token.keyObjectUs.toFixed(1)),
    unit: 'µs',
    reference: `${token.stringSecretUs.toFixed(1)} µs`,
    ratio: token.keyObjectUs / token.stringSecretUs,
    target: '-',
    met: null,
  });

  const table = formatBenchTable(rows);
  console.log(`\n${table}\n`);
  console.error(`bench took ${Math.round((performance.now() - startedAt) / 1000)} s`);
  if (process.env.BENCH_TABLE_FILE) writeFileSync(process.env.BENCH_TABLE_FILE, `${table}\n`);
}

runBench(main);
