/**
 * Builds one submission on this machine: unpack into its own directory, check requirements.txt
 * strictly, create a virtualenv (in the sandbox), download the requirements as wheels only (on
 * the host: the one step that needs the network, and it executes no package code), install those
 * wheels into the virtualenv (in the sandbox, no network, no index), then start the agent in the
 * sandbox through the real protocol (init -> ready) to prove that agent.py imports and its
 * `Agent` class constructs. The outcome names what failed; the log records every step and every
 * command with where it ran (docs/sandbox.md, "Builds").
 */
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
import { runProcess, runSandboxedStep, type BuildCommand, type StepResult } from './build-steps';
import { checkRequirements, describeRequirementProblem } from './requirements';

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
  /** The package index wheels are downloaded from (an operator setting; pip's default otherwise). */
  packageIndexUrl?: string;
}

export type BuildOutcome =
  | { ok: true; agentDir: string; pythonExecutable: string; environmentRef: string; log: string; commands: BuildCommand[] }
  | { ok: false; reason: string; log: string; commands: BuildCommand[] };

const IMPORT_CHECK_DEADLINE_MS = 30_000;

class BuildProblem extends Error {}

export async function buildAgent(input: BuildAgentInput): Promise<BuildOutcome> {
  const log = new BuildLog();
  const commands: BuildCommand[] = [];
  const deadline = Date.now() + input.timeoutMs;
  const remaining = () => deadline - Date.now();
  const buildDir = join(input.buildsDir, input.submissionId);
  const agentDir = join(buildDir, 'agent');
  const venvDir = join(buildDir, 'venv');
  const wheelsDir = join(buildDir, 'wheels');
  const requirementsFile = join(buildDir, 'requirements.checked.txt');
  const basePython = input.basePython ?? SYSTEM_PYTHON;
  const engine = input.engine ?? detectSandboxEngine();
  const finish = async (title: string, where: BuildCommand['where'], argv: string[], run: () => Promise<StepResult>) => {
    if (remaining() <= 0) throw new BuildProblem(`build timed out after ${input.timeoutMs} ms (before: ${title})`);
    log.step(`${title} [${where}]`);
    log.append(`$ ${argv.join(' ')}`);
    commands.push({ where, argv });
    const result = await run();
    log.append(result.output);
    if (result.timedOut) throw new BuildProblem(`build timed out after ${input.timeoutMs} ms (during: ${title})`);
    if (!result.ok) throw new BuildProblem(`${title} failed`);
  };
  const onHost = (title: string, argv: string[]) =>
    finish(title, 'host', argv, () =>
      runProcess(argv[0]!, argv.slice(1), {
        cwd: buildDir,
        timeoutMs: remaining(),
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: buildDir, LANG: 'C.UTF-8' },
      }),
    );
  const inSandbox = (title: string, argv: string[], binds: { readOnly: string[]; writable: string[] }) =>
    finish(title, 'sandbox', argv, () => runSandboxedStep({ engine, uidPool: input.uidPool, argv, ...binds, workingDir: '/tmp', timeoutMs: remaining() }));

  try {
    // The sandboxed agent uid must be able to reach the agent and its virtualenv.
    await mkdir(input.buildsDir, { recursive: true, mode: 0o755 });
    await chmod(input.buildsDir, 0o755);
    await rm(buildDir, { recursive: true, force: true });
    await mkdir(buildDir, { mode: 0o755 });

    log.step(`unpack the archive into ${relative(input.dataDir, agentDir)}`);
    const extracted = await extractValidatedZip(input.archive, agentDir);
    log.append(`${extracted.entries.filter((e) => e.kind === 'file').length} files, ${extracted.totalUncompressedBytes} bytes`);

    log.step('check requirements.txt');
    const checked = checkRequirements(await readFile(join(agentDir, 'requirements.txt'), 'utf8'));
    if (!checked.ok) {
      for (const problem of checked.problems) log.append(describeRequirementProblem(problem));
      throw new BuildProblem(checked.problem);
    }
    const { requirements } = checked;
    log.append(requirements.length === 0 ? 'no requirements' : requirements.join('\n'));

    // Without requirements the virtualenv needs no pip: creating it then takes milliseconds.
    await mkdir(venvDir, { mode: 0o755 });
    await inSandbox('create the virtualenv', [basePython, '-m', 'venv', ...(requirements.length === 0 ? ['--without-pip'] : []), venvDir], { readOnly: [], writable: [venvDir] });
    const python = join(venvDir, 'bin', 'python3');
    if (requirements.length === 0) {
      log.step('install requirements.txt');
      log.append('no requirements: nothing to install');
    } else {
      await writeFile(requirementsFile, `${requirements.join('\n')}\n`, { mode: 0o644 });
      await mkdir(wheelsDir, { mode: 0o755 });
      // Wheels only, dependencies included: pip resolves from wheel metadata and executes nothing.
      // `--isolated` ignores pip configuration and environment variables of the worker's user.
      await onHost('download the requirements as wheels', [
        basePython, '-m', 'pip', '--isolated', 'download', '--only-binary=:all:', '--no-input', '--disable-pip-version-check',
        '--progress-bar', 'off', '--cache-dir', join(input.buildsDir, '.pip-cache'),
        ...(input.packageIndexUrl ? ['--index-url', input.packageIndexUrl] : []),
        '--dest', wheelsDir, '-r', requirementsFile,
      ]);
      await inSandbox('install the wheels into the virtualenv', [
        python, '-m', 'pip', 'install', '--no-index', '--find-links', wheelsDir, '--only-binary=:all:', '--no-cache-dir',
        '--require-virtualenv', '--no-input', '--disable-pip-version-check', '--progress-bar', 'off', '-r', requirementsFile,
      ], { readOnly: [wheelsDir, requirementsFile], writable: [venvDir] });
      await rm(wheelsDir, { recursive: true, force: true });
    }

    log.step('check that agent.py imports and its Agent class constructs [sandbox]');
    commands.push({ where: 'sandbox', argv: [python, 'arena_runner.py', agentDir] });
    await checkAgentStarts({ ...input, engine, agentDir, python, log, deadlineMs: Math.min(IMPORT_CHECK_DEADLINE_MS, Math.max(1000, remaining())) });
    log.append('ok: the agent is ready to play');
    return { ok: true, agentDir, pythonExecutable: python, environmentRef: `venv:${relative(input.dataDir, venvDir)}`, log: log.toString(), commands };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (!(error instanceof BuildProblem)) log.append(`error: ${reason}`);
    await rm(buildDir, { recursive: true, force: true }).catch(() => undefined);
    return { ok: false, reason, log: log.toString(), commands };
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
