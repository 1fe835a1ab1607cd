import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDataDirLock, DataDirInUseError, type DataDirLockOwner } from '../../../src/infrastructure/database/data-dir-lock';

const startTicksOf = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};

const writeLock = (dir: string, owner: Partial<DataDirLockOwner> & { pid: number }) =>
  writeFileSync(
    join(dir, 'arena.lock'),
    JSON.stringify({ startTicks: null, host: hostname(), command: 'start', since: '2026-01-01T00:00:00.000Z', nonce: 'theirs', ...owner }),
  );

describe('DATA_DIR lock', () => {
  const freshDir = () => mkdtempSync(join(tmpdir(), 'arena-lock-'));

  it('is held by one process at a time and released by its holder', () => {
    const dir = freshDir();
    const lock = acquireDataDirLock(dir, 'start');
    expect(JSON.parse(readFileSync(join(dir, 'arena.lock'), 'utf8'))).toMatchObject({ pid: process.pid, command: 'start' });
    expect(() => acquireDataDirLock(dir, 'replay users')).toThrow(DataDirInUseError);
    lock.release();
    expect(existsSync(join(dir, 'arena.lock'))).toBe(false);
    acquireDataDirLock(dir, 'migrate').release();
  });

  it('refuses while another live process owns it, naming that process', async () => {
    const dir = freshDir();
    const owner = spawn('sleep', ['30']);
    try {
      await new Promise((resolve) => owner.once('spawn', resolve));
      writeLock(dir, { pid: owner.pid!, startTicks: startTicksOf(owner.pid!) });
      expect(() => acquireDataDirLock(dir, 'replay users')).toThrow(`is owned by a running arena process (pid ${owner.pid}, "arena start"`);
      expect(readFileSync(join(dir, 'arena.lock'), 'utf8')).toContain('"nonce":"theirs"');
    } finally {
      owner.kill('SIGKILL');
    }
  });

  it('takes over the lock of a dead owner (kill -9 leaves it behind)', async () => {
    const dir = freshDir();
    const owner = spawn('sleep', ['30']);
    await new Promise((resolve) => owner.once('spawn', resolve));
    writeLock(dir, { pid: owner.pid!, startTicks: startTicksOf(owner.pid!) });
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('exit', resolve));
    const lock = acquireDataDirLock(dir, 'start');
    expect(lock.owner.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid now belongs to another program (the start time differs)', () => {
    const dir = freshDir();
    writeLock(dir, { pid: process.pid, startTicks: '1' });
    acquireDataDirLock(dir, 'start').release();
  });

  it('counts an owner on another host as alive, and an unreadable lock as held', () => {
    const remote = freshDir();
    writeLock(remote, { pid: 1, host: 'another-host' });
    expect(() => acquireDataDirLock(remote, 'start')).toThrow('on host another-host');
    const garbled = freshDir();
    writeFileSync(join(garbled, 'arena.lock'), 'not json');
    expect(() => acquireDataDirLock(garbled, 'start')).toThrow('cannot be read');
  });

  it('leaves a lock that is no longer its own in place on release', () => {
    const dir = freshDir();
    const lock = acquireDataDirLock(dir, 'start');
    writeLock(dir, { pid: process.pid, startTicks: startTicksOf(process.pid), nonce: 'successor' });
    lock.release();
    expect(readFileSync(join(dir, 'arena.lock'), 'utf8')).toContain('successor');
  });
});
