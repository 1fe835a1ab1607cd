/**
 * Builds the command line that starts a program inside the sandbox. Pure: the engine (what this
 * machine supports) is detected elsewhere and passed in. The layers, outside in:
 *
 *   python3   closes every inherited file descriptor above 2 (Node and bwrap pass on any fd the
 *             worker itself inherited without close-on-exec; the agent must not get them)
 *   prlimit   sets the rlimits (CPU, address space, processes, file size, open files, no cores)
 *   setpriv   drops to the agent's dedicated unprivileged uid (only when we are root)
 *   bwrap     new user/pid/net/ipc/uts/mount namespaces, read-only system, private /tmp
 *             (or, in the `unshare` fallback, new net/pid/mount namespaces only)
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import type { SandboxLimits } from './sandbox-limits';

export type SandboxEngineKind = 'bubblewrap' | 'unshare';

export interface SandboxTools {
  /** A host python3, used only to close inherited file descriptors before exec. */
  readonly fdCloser: string;
  readonly prlimit: string;
  readonly setpriv: string | null;
  readonly bwrap: string | null;
  readonly unshare: string | null;
}

export interface ReadOnlyBind {
  readonly hostPath: string;
  readonly sandboxPath: string;
}

export interface SandboxCommandInput {
  readonly engine: SandboxEngineKind;
  readonly tools: SandboxTools;
  /** The dedicated uid to run as, or null to stay the current user (not root). */
  readonly uid: number | null;
  readonly limits: SandboxLimits;
  /** Extra directories the program needs (agent, runtime, a virtualenv), mounted read-only. */
  readonly readOnlyBinds: readonly ReadOnlyBind[];
  /** Directories the program may write (a build's virtualenv while it is being installed). */
  readonly writableBinds?: readonly ReadOnlyBind[];
  /** Working directory, as a path inside the sandbox. */
  readonly workingDir: string;
  /** The program and its arguments, with paths as seen inside the sandbox. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface SandboxCommand {
  readonly command: string;
  readonly args: string[];
  /** The host directory to spawn in (matters for engines without a mount namespace). */
  readonly cwd: string;
}

/** Top-level system paths made visible read-only; on merged-/usr systems most are symlinks. */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Single files from /etc that the dynamic loader and Python look for. */
const SYSTEM_FILES = ['/etc/ld.so.cache', '/etc/localtime', '/etc/nsswitch.conf'];

const CLOSE_FDS_THEN_EXEC = 'import os, sys; os.closerange(3, os.sysconf("SC_OPEN_MAX")); os.execv(sys.argv[1], sys.argv[1:])';

export function rlimitArgs(limits: SandboxLimits, withProcessLimit: boolean): string[] {
  return [
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--as=${limits.memoryBytes}`,
    ...(withProcessLimit ? [`--nproc=${limits.maxProcesses}`] : []),
    `--fsize=${limits.maxFileBytes}`,
    `--nofile=${limits.maxOpenFiles}`,
    '--core=0',
  ];
}

function setprivArgs(tools: SandboxTools, uid: number): string[] {
  if (!tools.setpriv) throw new Error('setpriv is needed to run agents under a dedicated uid');
  return [tools.setpriv, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
}

function systemBindArgs(): string[] {
  const args: string[] = [];
  for (const path of SYSTEM_PATHS) {
    if (!existsSync(path)) continue;
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (stat.isDirectory()) args.push('--ro-bind', path, path);
  }
  for (const file of SYSTEM_FILES) args.push('--ro-bind-try', file, file);
  return args;
}

function bubblewrapArgs(input: SandboxCommandInput): string[] {
  if (!input.tools.bwrap) throw new Error('bwrap is not installed');
  const envArgs = Object.entries(input.env).flatMap(([name, value]) => ['--setenv', name, value]);
  return [
    input.tools.bwrap,
    '--unshare-all', // user, pid, net, ipc, uts, cgroup namespaces: no network at all
    '--unshare-user', // explicit: --disable-userns needs it
    '--disable-userns', // the agent cannot build its own namespaces to get capabilities back
    '--die-with-parent',
    '--new-session', // no controlling terminal to inject keystrokes into (TIOCSTI)
    '--hostname',
    'arena-agent',
    ...systemBindArgs(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(input.limits.tmpBytes),
    '--tmpfs',
    '/tmp',
    ...input.readOnlyBinds.flatMap((bind) => ['--ro-bind', bind.hostPath, bind.sandboxPath]),
    ...(input.writableBinds ?? []).flatMap((bind) => ['--bind', bind.hostPath, bind.sandboxPath]),
    '--chdir',
    input.workingDir,
    '--clearenv',
    ...envArgs,
    '--',
    ...input.argv,
  ];
}

function unshareArgs(input: SandboxCommandInput, uid: number): string[] {
  if (!input.tools.unshare) throw new Error('unshare is not installed');
  const envPairs = Object.entries(input.env).map(([name, value]) => `${name}=${value}`);
  return [
    input.tools.unshare,
    '--net',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--',
    ...setprivArgs(input.tools, uid),
    '/usr/bin/env',
    '-i',
    ...envPairs,
    ...input.argv,
  ];
}

export function buildSandboxCommand(input: SandboxCommandInput): SandboxCommand {
  const withProcessLimit = input.uid !== null;
  const prlimit = [input.tools.fdCloser, '-I', '-S', '-c', CLOSE_FDS_THEN_EXEC, input.tools.prlimit, ...rlimitArgs(input.limits, withProcessLimit), '--'];
  if (input.engine === 'unshare') {
    if (input.uid === null) throw new Error('the unshare sandbox needs root to drop to a dedicated uid');
    const [command, ...args] = [...prlimit, ...unshareArgs(input, input.uid)];
    return { command: command!, args, cwd: input.workingDir };
  }
  const dropUid = input.uid === null ? [] : setprivArgs(input.tools, input.uid);
  const [command, ...args] = [...prlimit, ...dropUid, ...bubblewrapArgs(input)];
  return { command: command!, args, cwd: '/' };
}
