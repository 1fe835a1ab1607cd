/**
 * The commands a build runs, and where. Only one kind runs on the host: the wheel download (pip
 * run by the system Python, `--only-binary=:all:`, which reads wheel metadata and never executes
 * package code). Everything else (creating the virtualenv, installing the downloaded wheels,
 * importing the agent) runs in the sandbox, without network, as a dedicated uid.
 */
import { spawn } from 'node:child_process';
import { lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildSandboxCommand, type ReadOnlyBind } from '../../infrastructure/sandbox/sandbox-command';
import type { SandboxEngine } from '../../infrastructure/sandbox/sandbox-engine';
import { sandboxLimits } from '../../infrastructure/sandbox/sandbox-limits';
import { defaultUidPool, type UidPool } from '../../infrastructure/sandbox/uid-pool';
import { UnavailableError } from '../../domain/shared/errors';

export interface StepResult {
  ok: boolean;
  output: string;
  timedOut: boolean;
}

/** One command a build ran: the build log lists them, and tests check where each ran. */
export interface BuildCommand {
  where: 'host' | 'sandbox';
  argv: string[];
}

const MAX_STEP_OUTPUT_CHARS = 256 * 1024;
const GiB = 1024 * 1024 * 1024;

/** Runs a command with a deadline; output (stdout + stderr) is kept up to a cap. */
export function runProcess(command: string, args: string[], options: { cwd: string; timeoutMs: number; env: NodeJS.ProcessEnv }): Promise<StepResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_STEP_OUTPUT_CHARS) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, Math.max(1, options.timeoutMs));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, output: `${output}${error.message}\n`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0 && !timedOut, output, timedOut });
    });
  });
}

/** Gives a directory tree (symlinks themselves, not their targets) to `uid`: the sandbox's writer, or us afterwards. */
async function lchownTree(path: string, uid: number, gid: number): Promise<void> {
  await lchown(path, uid, gid);
  const stat = await lstat(path);
  if (!stat.isDirectory()) return;
  for (const name of await readdir(path)) await lchownTree(join(path, name), uid, gid);
}

export interface SandboxedStep {
  engine: SandboxEngine;
  uidPool?: UidPool;
  argv: string[];
  /** Host paths bound read-only at the same path. */
  readOnly: string[];
  /** Host paths bound writable at the same path (owned by the sandbox uid while the step runs). */
  writable: string[];
  workingDir: string;
  timeoutMs: number;
}

const STEP_ENVIRONMENT: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
  PIP_NO_INPUT: '1',
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  PIP_NO_CACHE_DIR: '1',
};

/** Runs one build command in the sandbox: no network, the system read-only, only `writable` writable. */
export async function runSandboxedStep(step: SandboxedStep): Promise<StepResult> {
  const { engine } = step;
  if (engine.kind === 'none' || !engine.tools) throw new UnavailableError(`no sandbox available to build agents: ${engine.notes.join('; ')}`);
  const uidPool = step.uidPool ?? defaultUidPool;
  const uid = engine.dedicatedUids ? uidPool.acquire() : null;
  const self = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  try {
    if (uid !== null) for (const path of step.writable) await lchownTree(path, uid, uid);
    const binds = (paths: string[]): ReadOnlyBind[] => paths.map((path) => ({ hostPath: path, sandboxPath: path }));
    const isolatedFs = engine.kind === 'bubblewrap';
    const remainingSeconds = Math.max(1, Math.ceil(step.timeoutMs / 1000));
    const command = buildSandboxCommand({
      engine: engine.kind,
      tools: engine.tools,
      uid,
      // Installing wheels: big files (native libraries), more processes and time than an agent step.
      limits: sandboxLimits({ cpuSeconds: remainingSeconds, memoryBytes: 4 * GiB, maxProcesses: 64, maxFileBytes: 4 * GiB, maxOpenFiles: 1024, tmpBytes: 512 * 1024 * 1024 }),
      readOnlyBinds: isolatedFs ? binds(step.readOnly) : [],
      writableBinds: isolatedFs ? binds(step.writable) : [],
      workingDir: step.workingDir,
      argv: step.argv,
      env: STEP_ENVIRONMENT,
    });
    return await runProcess(command.command, command.args, { cwd: command.cwd, timeoutMs: step.timeoutMs, env: {} });
  } finally {
    if (uid !== null) {
      // Back to the worker: later sandboxes (other uids) only read it, through read-only binds.
      for (const path of step.writable) await lchownTree(path, self.uid, self.gid).catch(() => undefined);
      uidPool.release(uid);
    }
  }
}

