import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseTrainerLine, type TrainerLine } from '../../../src/domain/training/trainer-protocol';

export const REPOSITORY_ROOT = resolve(__dirname, '../../..');

/**
 * Compiles the trainer entry point and what it imports with tsc, the way `npm run build` does,
 * into a fresh directory, so the test runs current sources as plain node would in production.
 * Returns the compiled trainer-process.js and the directory to remove afterwards.
 */
export async function compileTrainerProcess(): Promise<{ script: string; outDir: string }> {
  const outDir = mkdtempSync(join(tmpdir(), 'trainer-build-'));
  const tsc = join(REPOSITORY_ROOT, 'node_modules', '.bin', 'tsc');
  const options = ['--outDir', outDir, '--rootDir', REPOSITORY_ROOT, '--module', 'node20', '--moduleResolution', 'nodenext'];
  const more = ['--target', 'ES2022', '--types', 'node', '--skipLibCheck', '--strict', '--esModuleInterop'];
  await promisify(execFile)(tsc, [...options, ...more, join(REPOSITORY_ROOT, 'src/workers/training/trainer-process.ts')], {
    cwd: REPOSITORY_ROOT,
  });
  return { script: join(outDir, 'src/workers/training/trainer-process.js'), outDir };
}

export interface RunningTrainer {
  child: ChildProcessWithoutNullStreams;
  lines: TrainerLine[];
  /** Lines on stdout that were not protocol messages. */
  strayLines: string[];
  stderr: () => string;
  /** Resolves on the first line matching the predicate. */
  waitForLine(predicate: (line: TrainerLine) => boolean): Promise<TrainerLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a trainer command, feeds it the job spec on stdin and collects its protocol lines. */
export function startTrainer(command: string, args: readonly string[], jobSpec: unknown, environment: NodeJS.ProcessEnv = {}): RunningTrainer {
  const child = spawn(command, [...args], { cwd: REPOSITORY_ROOT, env: { ...process.env, ...environment } });
  const lines: TrainerLine[] = [];
  const strayLines: string[] = [];
  const waiters: Array<{ predicate: (line: TrainerLine) => boolean; resolve: (line: TrainerLine) => void }> = [];
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const text of complete) {
      const line = parseTrainerLine(text);
      if (!line) {
        strayLines.push(text);
        continue;
      }
      lines.push(line);
      for (const waiter of waiters.filter((candidate) => candidate.predicate(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.on('close', (code, signal) => resolveExit({ code, signal })),
  );
  child.stdin.end(JSON.stringify(jobSpec));
  return {
    child,
    lines,
    strayLines,
    stderr: () => stderr,
    exited,
    waitForLine: (predicate) =>
      new Promise((resolveLine, reject) => {
        const seen = lines.find(predicate);
        if (seen) return resolveLine(seen);
        waiters.push({ predicate, resolve: resolveLine });
        void exited.then(() => reject(new Error(`trainer exited before the expected line; stderr: ${stderr}`)));
      }),
  };
}
