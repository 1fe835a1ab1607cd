import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * One process owns a DATA_DIR at a time: the one that runs the embedded PostgreSQL and chDB on it.
 * Ownership is a lock file, `<DATA_DIR>/arena.lock`, naming the owner (pid, the pid's start time,
 * host, command). A second process reads it and refuses while the owner lives. An owner killed
 * with SIGKILL leaves the file behind; its pid is then dead (or reused by another program, which
 * the start time tells apart), and the next process takes the lock over.
 *
 * Creation is atomic (the content is written to a private file first, then hard-linked to the
 * lock's name, which fails if the name exists). Taking over a stale lock renames it away and
 * checks that what was renamed is the stale lock that was read; a lock that a live contender
 * created meanwhile is put back.
 */
export const DATA_DIR_LOCK_FILE = 'arena.lock';

const lockOwnerSchema = z.object({
  pid: z.number().int().positive(),
  /** Start time of the pid, in clock ticks since boot (`/proc/<pid>/stat` field 22); null where there is no /proc. */
  startTicks: z.string().nullable(),
  host: z.string(),
  command: z.string(),
  since: z.string(),
  nonce: z.string(),
});
export type DataDirLockOwner = z.infer<typeof lockOwnerSchema>;

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: DataDirLockOwner | null,
  ) {
    super(
      owner
        ? `DATA_DIR ${dataDir} is owned by a running arena process (pid ${owner.pid}${owner.host !== hostname() ? ` on host ${owner.host}` : ''}, "arena ${owner.command}", since ${owner.since})`
        : `DATA_DIR ${dataDir} is locked by another arena process (${join(dataDir, DATA_DIR_LOCK_FILE)} cannot be read)`,
    );
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  readonly owner: DataDirLockOwner;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses; the fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock's owner still runs. An owner on another host cannot be checked: it counts as alive. */
export function ownerIsAlive(owner: DataDirLockOwner): boolean {
  if (owner.host !== hostname()) return true;
  if (!pidIsAlive(owner.pid)) return false;
  if (owner.startTicks === null) return true;
  return processStartTicks(owner.pid) === owner.startTicks;
}

function readOwner(file: string): DataDirLockOwner | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const parsed = lockOwnerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

const tryLink = (from: string, to: string): boolean => {
  try {
    linkSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
};

const removeQuietly = (file: string): void => {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
};

/** Takes the lock of `dataDir` (which must exist) for this process, or throws DataDirInUseError. */
export function acquireDataDirLock(dataDir: string, command: string): DataDirLock {
  const file = join(dataDir, DATA_DIR_LOCK_FILE);
  const owner: DataDirLockOwner = {
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    host: hostname(),
    command,
    since: new Date().toISOString(),
    nonce: randomUUID(),
  };
  const draft = `${file}.${owner.nonce}`;
  writeFileSync(draft, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (tryLink(draft, file)) return heldLock(dataDir, file, owner);
      const current = readOwner(file);
      if (current === 'missing') continue; // released between our link and our read
      if (current === 'unreadable') throw new DataDirInUseError(dataDir, null);
      if (ownerIsAlive(current)) throw new DataDirInUseError(dataDir, current);
      takeOverStaleLock(file, current);
    }
    throw new DataDirInUseError(dataDir, null);
  } finally {
    removeQuietly(draft);
  }
}

/** Moves a dead owner's lock out of the way; a live lock that replaced it meanwhile is put back. */
function takeOverStaleLock(file: string, stale: DataDirLockOwner): void {
  const aside = `${file}.stale.${process.pid}.${randomUUID()}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readOwner(aside);
  if (moved !== 'missing' && moved !== 'unreadable' && moved.nonce !== stale.nonce) tryLink(aside, file);
  removeQuietly(aside);
}

function heldLock(dataDir: string, file: string, owner: DataDirLockOwner): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const current = readOwner(file);
    if (current !== 'missing' && current !== 'unreadable' && current.nonce === owner.nonce) removeQuietly(file);
  };
  // A normal exit, even one that skips the orderly shutdown, leaves no lock behind.
  process.on('exit', release);
  return { dataDir, owner, release };
}
