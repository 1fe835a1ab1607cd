/**
 * Builds one submission on this machine: unpack into its own directory, create a virtualenv,
 * install requirements.txt from the package index (wheels only), then start the agent in the
 * sandbox through the real protocol (init -> ready) to prove that agent.py imports and its
 * `Agent` class constructs. The outcome names what failed; the log records every step.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { getEnvironment } from '../../domain/arena/environments/registry';
import { AGENT_PROTOCOL_VERSION } from '../../infrastructure/sandbox/agent-protocol';
import { AgentSession, SYSTEM_PYTHON } from '../../infrastructure/sandbox/agent-session';
import { detectSandboxEngine, type SandboxEngine } from '../../infrastructure/sandbox/sandbox-engine';
import { sandboxLimits } from '../../infrastructure/sandbox/sandbox-limits';
import type { UidPool } from '../../infrastructure/sandbox/uid-pool';
import { extractValidatedZip } from '../../infrastructure/submissions/zip-extractor';
import { BuildLog } from './build-log';
import { checkRequirements } from './requirements';

export interface BuildAgentInput {
  submissionId: string;
  archive: Buffer;
  environmentId: string;
  /** `<buildsDir>/<submissionId>/{agent,venv}` is this build's directory (replaced on a rebuild). */
  buildsDir: string;
  /** The virtualenv reference is reported relative to this (DATA_DIR). */
  dataDir: string;
  timeoutMs: number;
  engine?: SandboxEngine;
  uidPool?: UidPool;
  runtimeDir?: string;
  /** The interpreter virtualenvs are made from; must live under /usr (the sandbox mounts only /usr). */
  basePython?: string;
}

export type BuildOutcome =
  | { ok: true; agentDir: string; pythonExecutable: string; environmentRef: string; log: string }
  | { ok: false; reason: string; log: string };

const MAX_STEP_OUTPUT_CHARS = 256 * 1024;
const IMPORT_CHECK_DEADLINE_MS = 30_000;

interface StepResult {
  ok: boolean;
  output: string;
  timedOut: boolean;
}

/** Runs a build step with a deadline; output (stdout + stderr) is kept up to a cap. */
function runStep(command: string, args: string[], options: { cwd: string; timeoutMs: number; env: NodeJS.ProcessEnv }): Promise<StepResult> {
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

class BuildProblem extends Error {}

export async function buildAgent(input: BuildAgentInput): Promise<BuildOutcome> {
  const log = new BuildLog();
  const deadline = Date.now() + input.timeoutMs;
  const remaining = () => deadline - Date.now();
  const buildDir = join(input.buildsDir, input.submissionId);
  const agentDir = join(buildDir, 'agent');
  const venvDir = join(buildDir, 'venv');
  const basePython = input.basePython ?? SYSTEM_PYTHON;
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: buildDir,
    LANG: 'C.UTF-8',
    PIP_NO_INPUT: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_CACHE_DIR: join(input.buildsDir, '.pip-cache'),
  };
  const step = async (title: string, command: string, args: string[]) => {
    log.step(title);
    if (remaining() <= 0) throw new BuildProblem(`build timed out after ${input.timeoutMs} ms (before: ${title})`);
    const result = await runStep(command, args, { cwd: buildDir, timeoutMs: remaining(), env });
    log.append(result.output);
    if (result.timedOut) throw new BuildProblem(`build timed out after ${input.timeoutMs} ms (during: ${title})`);
    if (!result.ok) throw new BuildProblem(`${title} failed`);
  };

  try {
    // The sandboxed agent uid must be able to reach the agent and its virtualenv.
    await mkdir(input.buildsDir, { recursive: true, mode: 0o755 });
    await chmod(input.buildsDir, 0o755);
    await rm(buildDir, { recursive: true, force: true });
    await mkdir(buildDir, { mode: 0o755 });

    log.step(`unpack the archive into ${relative(input.dataDir, agentDir)}`);
    const extracted = await extractValidatedZip(input.archive, agentDir);
    log.append(`${extracted.entries.filter((e) => e.kind === 'file').length} files, ${extracted.totalUncompressedBytes} bytes`);

    const checked = checkRequirements(await readFile(join(agentDir, 'requirements.txt'), 'utf8'));
    if (!checked.ok) {
      log.append(checked.problem);
      throw new BuildProblem(checked.problem);
    }
    const { requirements } = checked;
    // Without requirements the virtualenv needs no pip: creating it then takes milliseconds.
    await step('create the virtualenv', basePython, ['-m', 'venv', ...(requirements.length === 0 ? ['--without-pip'] : []), venvDir]);
    const python = join(venvDir, 'bin', 'python3');
    if (requirements.length === 0) {
      log.step('install requirements.txt');
      log.append('no requirements: nothing to install');
    } else {
      const checkedFile = join(buildDir, 'requirements.checked.txt');
      await writeFile(checkedFile, `${requirements.join('\n')}\n`, { mode: 0o644 });
      // Wheels only: installing a wheel unpacks files, building an sdist would run its setup code here.
      await step('install requirements.txt', python, ['-m', 'pip', 'install', '--no-input', '--only-binary=:all:', '--require-virtualenv', '-r', checkedFile]);
    }

    log.step('check that agent.py imports and its Agent class constructs (in the sandbox)');
    await checkAgentStarts({ ...input, agentDir, python, log, deadlineMs: Math.min(IMPORT_CHECK_DEADLINE_MS, Math.max(1000, remaining())) });
    log.append('ok: the agent is ready to play');
    return { ok: true, agentDir, pythonExecutable: python, environmentRef: `venv:${relative(input.dataDir, venvDir)}`, log: log.toString() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (!(error instanceof BuildProblem)) log.append(`error: ${reason}`);
    await rm(buildDir, { recursive: true, force: true }).catch(() => undefined);
    return { ok: false, reason, log: log.toString() };
  }
}

async function checkAgentStarts(
  input: BuildAgentInput & { agentDir: string; python: string; log: BuildLog; deadlineMs: number },
): Promise<void> {
  const environment = getEnvironment(input.environmentId);
  const started = await AgentSession.start(
    {
      agentDir: input.agentDir,
      pythonExecutable: input.python,
      limits: sandboxLimits({ initDeadlineMs: input.deadlineMs }),
      engine: input.engine ?? detectSandboxEngine(),
      uidPool: input.uidPool,
      runtimeDir: input.runtimeDir,
    },
    {
      type: 'init',
      protocol_version: AGENT_PROTOCOL_VERSION,
      environment: environment.id,
      player: 0,
      seed: 0,
      observation_space: environment.observationSpace,
      action_space: environment.actionSpace,
    },
  );
  try {
    const agentOutput = started.session.logs().trim();
    if (agentOutput) input.log.append(agentOutput);
    if (started.failure) {
      throw new BuildProblem(`agent check failed (${started.failure.reason}): ${started.failure.detail}`);
    }
  } finally {
    await started.session.close();
  }
}
