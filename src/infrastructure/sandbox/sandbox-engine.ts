/**
 * Finds out, at runtime, the strongest isolation this machine can give an agent, by actually
 * starting a trivial program through each candidate (a `bwrap --version` that works says nothing
 * about whether user namespaces are allowed here). The result is cached and reported to callers
 * (logs, docs/sandbox.md explains each level).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { buildSandboxCommand, type SandboxEngineKind, type SandboxTools } from './sandbox-command';
import { sandboxLimits } from './sandbox-limits';

export interface SandboxEngine {
  /** `none` means agents cannot be run: the sandbox refuses rather than run them bare. */
  readonly kind: SandboxEngineKind | 'none';
  readonly tools: SandboxTools | null;
  /** Each agent runs as its own unprivileged uid (needs root); the process limit is then per agent. */
  readonly dedicatedUids: boolean;
  readonly isolation: {
    readonly network: boolean;
    /** The agent sees only a read-only system, its own files and a private /tmp. */
    readonly filesystem: boolean;
    readonly processNamespace: boolean;
    readonly processLimit: boolean;
  };
  /** What was tried and why it did or did not work. */
  readonly notes: readonly string[];
}

const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/bin', '/sbin'];
const PROBE_UID = 199_999;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findTool(name: string): string | null {
  for (const dir of SEARCH_PATH) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

// Synchronous on purpose: it runs once per process, takes milliseconds, and lets test files
// decide at load time whether their sandbox suites can run.
function run(command: string, args: string[], cwd: string): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { cwd, timeout: 10_000, encoding: 'utf8' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  return { ok: result.status === 0, output: output || (result.error?.message ?? `exit status ${result.status}`) };
}

function probe(kind: SandboxEngineKind, tools: SandboxTools, uid: number | null): { ok: boolean; output: string } {
  const trueProgram = findTool('true') ?? '/usr/bin/true';
  const command = buildSandboxCommand({
    engine: kind,
    tools,
    uid,
    limits: sandboxLimits(),
    readOnlyBinds: [],
    workingDir: '/',
    argv: [trueProgram],
    env: { PATH: '/usr/bin:/bin' },
  });
  return run(command.command, command.args, command.cwd);
}

function detect(): SandboxEngine {
  const notes: string[] = [];
  const prlimit = findTool('prlimit');
  const fdCloser = ['/usr/bin/python3'].find((path) => isExecutable(path)) ?? findTool('python3');
  if (!prlimit || !fdCloser) {
    return { kind: 'none', tools: null, dedicatedUids: false, isolation: { network: false, filesystem: false, processNamespace: false, processLimit: false }, notes: [!prlimit ? 'prlimit (util-linux) is not installed: no resource limits possible' : 'python3 is not installed'] };
  }
  const tools: SandboxTools = { fdCloser, prlimit, setpriv: findTool('setpriv'), bwrap: findTool('bwrap'), unshare: findTool('unshare') };
  const isRoot = process.getuid?.() === 0;
  const dedicatedUids = isRoot && tools.setpriv !== null;
  if (!dedicatedUids) notes.push(isRoot ? 'setpriv not found: agents would share our uid' : 'not root: agents run as the current user; the process limit is not applied (RLIMIT_NPROC would count all of this user\'s processes)');

  if (tools.bwrap) {
    const result = probe('bubblewrap', tools, dedicatedUids ? PROBE_UID : null);
    if (result.ok) {
      notes.push(`bubblewrap works (${tools.bwrap})`);
      return { kind: 'bubblewrap', tools, dedicatedUids, isolation: { network: true, filesystem: true, processNamespace: true, processLimit: dedicatedUids }, notes };
    }
    notes.push(`bubblewrap is installed but cannot start a sandbox here: ${result.output}`);
  } else {
    notes.push('bubblewrap (bwrap) is not installed: run deploy/sandbox/install.sh');
  }

  if (dedicatedUids && tools.unshare) {
    const result = probe('unshare', tools, PROBE_UID);
    if (result.ok) {
      notes.push('fallback: unshare (network + pid namespaces, dedicated uid); the filesystem is only protected by file permissions');
      return { kind: 'unshare', tools, dedicatedUids, isolation: { network: true, filesystem: false, processNamespace: true, processLimit: true }, notes };
    }
    notes.push(`unshare cannot create namespaces here: ${result.output}`);
  }
  return { kind: 'none', tools, dedicatedUids, isolation: { network: false, filesystem: false, processNamespace: false, processLimit: false }, notes };
}

let cached: SandboxEngine | null = null;

/** The engine this machine supports; detected once per process unless `refresh`. */
export function detectSandboxEngine(options: { refresh?: boolean } = {}): SandboxEngine {
  if (!cached || options.refresh) cached = detect();
  return cached;
}

/** A one-line summary for logs and test skip messages. */
export function describeSandboxEngine(engine: SandboxEngine): string {
  const isolated = Object.entries(engine.isolation).filter(([, on]) => on).map(([name]) => name);
  return `${engine.kind} (isolates: ${isolated.join(', ') || 'nothing'}; dedicated uids: ${engine.dedicatedUids}) - ${engine.notes.join('; ')}`;
}
