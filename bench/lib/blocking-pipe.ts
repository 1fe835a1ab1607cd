/**
 * A real pipe whose ends we open in blocking mode, made from a FIFO in a private directory that
 * is removed again at once. Node's child stdio pipes are non-blocking socket pairs served by the
 * event loop; the agent protocol's reader threads (pipe-reader.ts) need an fd they can block on
 * with `readSync`. Both ends are close-on-exec (libuv opens every file so), so only a child given
 * an end as its stdio gets it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BlockingPipe {
  readonly readFd: number;
  readonly writeFd: number;
}

const MKFIFO = '/usr/bin/mkfifo';

/**
 * Opens a pipe: `readFd` blocks until data or end-of-file; `writeFd` is non-blocking when
 * `nonBlockingWrite` (a write to a full pipe fails with EAGAIN instead of waiting).
 */
export function openBlockingPipe(options: { nonBlockingWrite?: boolean } = {}): BlockingPipe {
  const dir = mkdtempSync(join(tmpdir(), 'arena-pipe-'));
  try {
    const path = join(dir, 'fifo');
    execFileSync(MKFIFO, ['-m', '600', path]);
    // Opening a FIFO waits for the other end: the first reader opens without waiting, the writer
    // then finds it, and the blocking reader opened last finds the writer.
    const placeholder = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(path, constants.O_WRONLY | (options.nonBlockingWrite ? constants.O_NONBLOCK : 0));
    const readFd = openSync(path, constants.O_RDONLY);
    closeSync(placeholder);
    return { readFd, writeFd };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
