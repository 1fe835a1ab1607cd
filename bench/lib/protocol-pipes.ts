/**
 * Two pipes for a child's stdin and stdout: real pipes (FIFOs unlinked at once), not the UNIX
 * socket pairs node gives a child for `stdio: 'pipe'`. Evaluated for the agent protocol in round
 * five and not adopted (docs/performance.md, "Branch i9-proto5"); `bench/pipe-floor.ts` measures
 * the floor on them. A pipe write costs the kernel less
 * than a socket send on both sides, and the host's end of the input pipe is an fd it can write a
 * step frame to with one `writeSync`, without the stream machinery (write requests, callbacks,
 * ticks) that a socket's `write` runs every step. Node has no call for an anonymous pipe, so each
 * pipe is a FIFO in a private directory that is removed as soon as its ends are open.
 *
 * The child's ends are blocking (the runner blocks in `os.readv`); the host's ends are
 * non-blocking (the event loop reads, and a write to a full pipe fails at once instead of
 * waiting). Every end is close-on-exec (libuv opens every file so): only the child given an
 * end as its stdin or stdout gets it.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const MKFIFO = '/usr/bin/mkfifo';
const runFile = promisify(execFile);

export interface ProtocolPipes {
  /** The child's stdin: the read end of the input pipe (blocking). */
  readonly childInput: number;
  /** The child's stdout: the write end of the output pipe (blocking). */
  readonly childOutput: number;
  /** The host writes steps here (non-blocking). */
  readonly hostInput: number;
  /** The host reads answers here (non-blocking). */
  readonly hostOutput: number;
}

/** Opens both pipes. The caller passes the child's ends to `spawn` and closes them right after. */
export async function openProtocolPipes(): Promise<ProtocolPipes> {
  const dir = mkdtempSync(join(tmpdir(), 'arena-protocol-'));
  const opened: number[] = [];
  const open = (path: string, flags: number): number => {
    const fd = openSync(path, flags);
    opened.push(fd);
    return fd;
  };
  try {
    const input = join(dir, 'input');
    const output = join(dir, 'output');
    await runFile(MKFIFO, ['-m', '600', input, output]);
    // Opening one end of a FIFO waits for the other unless non-blocking: a non-blocking reader
    // opens at once, a writer then finds it, and a blocking reader opened after the writer too.
    const placeholder = open(input, constants.O_RDONLY | constants.O_NONBLOCK);
    const hostInput = open(input, constants.O_WRONLY | constants.O_NONBLOCK);
    const childInput = open(input, constants.O_RDONLY);
    closeSync(opened.splice(opened.indexOf(placeholder), 1)[0]!);
    const hostOutput = open(output, constants.O_RDONLY | constants.O_NONBLOCK);
    const childOutput = open(output, constants.O_WRONLY);
    return { childInput, childOutput, hostInput, hostOutput };
  } catch (error) {
    opened.forEach((fd) => closeSync(fd));
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Closes the child's ends in this process (after `spawn` has given them to the child, or when it failed). */
export function closeChildEnds(pipes: ProtocolPipes): void {
  closeSync(pipes.childInput);
  closeSync(pipes.childOutput);
}

/** Closes the host's ends, when no process got the pipes (the spawn threw). */
export function closeHostEnds(pipes: ProtocolPipes): void {
  closeSync(pipes.hostInput);
  closeSync(pipes.hostOutput);
}
