/**
 * One agent, started in the sandbox and spoken to through the agent protocol. Every way an agent
 * can misbehave ends as an `AgentFailure` with a reason and a human-readable detail; nothing an
 * agent does throws here. Errors that are ours (no sandbox, unreadable files) do throw.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ForfeitReason } from '../../domain/arena/replay';
import { UnavailableError } from '../../domain/shared/errors';
import { parseAgentLine, stepFrameBytes, writeStepFrame, type AgentMessage, type InitMessage } from './agent-protocol';
import { buildSandboxCommand, type ReadOnlyBind } from './sandbox-command';
import type { SandboxEngine } from './sandbox-engine';
import type { SandboxLimits } from './sandbox-limits';
import { SandboxedProcess, type ChannelFailure, type LineResult } from './sandboxed-process';
import { defaultUidPool, type UidPool } from './uid-pool';

export interface AgentFailure {
  readonly reason: ForfeitReason;
  readonly detail: string;
}

export type StepOutcome =
  | { readonly ok: true; readonly action: unknown; readonly elapsedMs: number }
  | { readonly ok: false; readonly failure: AgentFailure; readonly elapsedMs: number };

export interface AgentLaunch {
  /** Directory holding agent.py (read-only inside the sandbox). */
  readonly agentDir: string;
  /** Defaults to the system /usr/bin/python3; a virtualenv's python gets its venv mounted too. */
  readonly pythonExecutable?: string;
  readonly limits: SandboxLimits;
  readonly engine: SandboxEngine;
  readonly uidPool?: UidPool;
  /** Directory holding arena_runner.py; found next to the sources by default. */
  readonly runtimeDir?: string;
}

export const SYSTEM_PYTHON = '/usr/bin/python3';
const SANDBOX_AGENT_DIR = '/arena/agent';
const SANDBOX_RUNTIME_DIR = '/arena/runtime';
const CLOSE_GRACE_MS = 500;
const STDERR_IN_DETAIL_CHARS = 600;
const SIGXCPU_EXIT = 128 + 24;
const SIGKILL_EXIT = 128 + 9;

/** Finds runtime/python from src/... (ts-jest) or dist/src/... (built). */
export function defaultRuntimeDir(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'runtime', 'python');
    if (existsSync(join(candidate, 'arena_runner.py'))) return candidate;
  }
  throw new Error('runtime/python/arena_runner.py not found above ' + __dirname);
}

/** The dedicated uid must be able to reach and read `path` (bwrap binds it as that uid). */
function assertReadableByOthers(path: string): void {
  const stat = statSync(path);
  if ((stat.mode & 0o005) !== 0o005) throw new Error(`${path} must be readable by others (mode o+rx) for the sandboxed agent uid`);
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) throw new Error(`${dir} must be traversable by others (mode o+x) for the sandboxed agent uid`);
  }
}

const ENVIRONMENT: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
  PYTHONDONTWRITEBYTECODE: '1',
  // Numeric libraries start one thread per core by default; threads count against the process limit.
  OMP_NUM_THREADS: '1',
  OPENBLAS_NUM_THREADS: '1',
  MKL_NUM_THREADS: '1',
};

type Received = { readonly ok: true; readonly message: AgentMessage } | { readonly ok: false; readonly failure: AgentFailure };

/** What the agent was doing when it failed: a phase name, or the number of the step. */
type During = string | number;

function describeDuring(during: During): string {
  return typeof during === 'number' ? `step ${during}` : during;
}

export class AgentSession {
  private closed = false;
  /** The step frame, rewritten in place every step (a new one only while a write is pending). */
  private stepFrame = Buffer.alloc(0);

  private constructor(
    private readonly process: SandboxedProcess,
    private readonly uid: number | null,
    private readonly uidPool: UidPool,
    private readonly limits: SandboxLimits,
  ) {}

  /** Starts the agent and sends `init`. The session is returned even on failure, to be closed. */
  static async start(launch: AgentLaunch, init: InitMessage): Promise<{ session: AgentSession; failure: AgentFailure | null }> {
    const { engine, limits } = launch;
    if (engine.kind === 'none' || !engine.tools) {
      throw new UnavailableError(`no sandbox available to run agents: ${engine.notes.join('; ')}`);
    }
    const agentDir = resolve(launch.agentDir);
    const runtimeDir = resolve(launch.runtimeDir ?? defaultRuntimeDir());
    const python = launch.pythonExecutable ?? SYSTEM_PYTHON;
    const binds: ReadOnlyBind[] = [];
    const isolatedFs = engine.kind === 'bubblewrap';
    binds.push({ hostPath: runtimeDir, sandboxPath: isolatedFs ? SANDBOX_RUNTIME_DIR : runtimeDir });
    binds.push({ hostPath: agentDir, sandboxPath: isolatedFs ? SANDBOX_AGENT_DIR : agentDir });
    if (!python.startsWith('/usr/')) {
      const venv = dirname(dirname(python));
      binds.push({ hostPath: venv, sandboxPath: venv });
    }
    if (engine.dedicatedUids) binds.forEach((bind) => assertReadableByOthers(bind.hostPath));

    const uidPool = launch.uidPool ?? defaultUidPool;
    const uid = engine.dedicatedUids ? uidPool.acquire() : null;
    const [runtimeBind, agentBind] = binds;
    const command = buildSandboxCommand({
      engine: engine.kind,
      tools: engine.tools,
      uid,
      limits,
      readOnlyBinds: isolatedFs ? binds : [],
      workingDir: agentBind!.sandboxPath,
      argv: [python, '-I', '-B', '-u', join(runtimeBind!.sandboxPath, 'arena_runner.py'), agentBind!.sandboxPath],
      env: ENVIRONMENT,
    });
    const agentProcess = new SandboxedProcess(command, {
      maxStdoutBytes: limits.maxStdoutBytes,
      maxStderrBytes: limits.maxStderrBytes,
      maxMessageBytes: limits.maxMessageBytes,
      keepStderrBytes: 64 * 1024,
    });
    const session = new AgentSession(agentProcess, uid, uidPool, limits);
    agentProcess.send(JSON.stringify(init));
    const answer = await session.receive(limits.initDeadlineMs, 'init');
    if (!answer.ok) return { session, failure: answer.failure };
    if (answer.message.type !== 'ready') {
      return { session, failure: { reason: 'protocol_error', detail: `expected "ready" after init, got "${answer.message.type}"` } };
    }
    return { session, failure: null };
  }

  /**
   * Sends one observation and hands the outcome to `onOutcome` once the action is in, at most
   * `deadlineMs` later. A callback, not a promise: the match loop waits for both agents with one
   * promise per step (`match-runner.ts`).
   */
  act(step: number, observation: readonly number[], onOutcome: (outcome: StepOutcome) => void, deadlineMs = this.limits.stepDeadlineMs): void {
    const startedAt = performance.now();
    const size = stepFrameBytes(observation.length);
    if (this.stepFrame.length !== size || this.process.writePending) this.stepFrame = Buffer.allocUnsafe(size);
    writeStepFrame(this.stepFrame, step, observation);
    this.process.sendBytes(this.stepFrame);
    this.process.onNextMessage(deadlineMs, (result) => {
      const received = this.check(result, deadlineMs, step);
      if (received instanceof Promise) void received.then((answer) => onOutcome(this.toOutcome(answer, step, performance.now() - startedAt)));
      else onOutcome(this.toOutcome(received, step, performance.now() - startedAt));
    });
  }

  private toOutcome(answer: Received, step: number, elapsedMs: number): StepOutcome {
    if (!answer.ok) return { ok: false, failure: answer.failure, elapsedMs };
    if (answer.message.type !== 'action') {
      return { ok: false, failure: { reason: 'protocol_error', detail: `expected "action" at step ${step}, got "${answer.message.type}"` }, elapsedMs };
    }
    if (answer.message.step !== step) {
      return { ok: false, failure: { reason: 'protocol_error', detail: `answered step ${answer.message.step} when asked for step ${step}` }, elapsedMs };
    }
    return { ok: true, action: answer.message.action, elapsedMs };
  }

  /** The end of what the agent wrote to stderr (its prints included). */
  logs(): string {
    return this.process.stderr();
  }

  /** Says goodbye, gives the agent a moment to exit, then kills the sandbox. Always safe to call. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.process.send(JSON.stringify({ type: 'close' }));
    await this.process.waitForExit(CLOSE_GRACE_MS);
    await this.process.kill();
    if (this.uid !== null) this.uidPool.release(this.uid);
  }

  private receive(deadlineMs: number, during: During): Promise<Received> {
    return this.process.nextLine(deadlineMs).then((result) => this.check(result, deadlineMs, during));
  }

  /** Synchronous for the usual answers (no extra promise per step); failures kill the process first. */
  private check(result: LineResult, deadlineMs: number, during: During): Received | Promise<Received> {
    // An action frame is checked by its decoding (a uint32 step and an int32 action) and then by the caller.
    if (result.kind === 'frame') return { ok: true, message: result.message };
    if (result.kind === 'line') {
      const parsed = parseAgentLine(result.line);
      if (parsed.ok && parsed.message.type !== 'error') return { ok: true, message: parsed.message };
    }
    return this.checkFailure(result, deadlineMs, during);
  }

  private async checkFailure(result: LineResult, deadlineMs: number, during: During): Promise<Received> {
    if (result.kind === 'frame') return { ok: true, message: result.message };
    if (result.kind === 'timeout') {
      await this.process.kill();
      return { ok: false, failure: { reason: 'timeout', detail: `no answer within ${deadlineMs} ms (${describeDuring(during)})` } };
    }
    if (result.kind === 'failed') return { ok: false, failure: this.describe(result.failure, describeDuring(during)) };
    const parsed = parseAgentLine(result.line);
    if (!parsed.ok) {
      await this.process.kill();
      return { ok: false, failure: { reason: 'protocol_error', detail: `${parsed.problem} (${describeDuring(during)})` } };
    }
    if (parsed.message.type === 'error') {
      await this.process.kill();
      const reason = parsed.message.phase === 'action' ? 'invalid_action' : parsed.message.phase === 'protocol' ? 'protocol_error' : 'crashed';
      return { ok: false, failure: { reason, detail: `${parsed.message.phase}: ${parsed.message.message}` } };
    }
    return { ok: true, message: parsed.message };
  }

  private describe(failure: ChannelFailure, during: string): AgentFailure {
    const log = this.process.stderr().slice(-STDERR_IN_DETAIL_CHARS).trim();
    const withLog = (text: string): string => (log ? `${text}; stderr: ${log}` : text);
    switch (failure.kind) {
      case 'output_limit':
        return { reason: 'output_limit', detail: `wrote more than ${failure.limitBytes} bytes to ${failure.stream} (${during})` };
      case 'message_too_long':
        return { reason: 'protocol_error', detail: `a protocol message longer than ${failure.limitBytes} bytes (${during})` };
      case 'spawn_failed':
        return { reason: 'sandbox_error', detail: `the sandbox could not start: ${failure.message}` };
      case 'exited': {
        const { exitCode, signal } = failure;
        if (signal === 'SIGXCPU' || exitCode === SIGXCPU_EXIT) {
          return { reason: 'timeout', detail: withLog(`CPU-time limit of ${this.limits.cpuSeconds} s exceeded (${during})`) };
        }
        if (signal === 'SIGKILL' || exitCode === SIGKILL_EXIT) {
          return { reason: 'crashed', detail: withLog(`killed by SIGKILL (${during})`) };
        }
        const how = signal ? `killed by ${signal}` : `exited with code ${exitCode}`;
        return { reason: 'crashed', detail: withLog(`agent process ${how} (${during})`) };
      }
    }
  }
}
