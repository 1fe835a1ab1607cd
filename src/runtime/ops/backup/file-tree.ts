import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';

/**
 * A directory tree as a backup records it: every directory, regular file and symbolic link, with
 * its mode and owner (the embedded PostgreSQL's files belong to the `postgres` account when the app
 * runs as root, and PostgreSQL refuses a data directory with the wrong owner or mode), and each
 * file's size and SHA-256. Paths are relative, '/'-separated, and never leave the tree.
 */
const relativePath = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith('/') && path.split('/').every((part) => part !== '' && part !== '.' && part !== '..'), {
    message: 'must be a relative path inside the backup',
  });
const owner = { mode: z.number().int().min(0).max(0o7777), uid: z.number().int().min(0), gid: z.number().int().min(0) };

export const treeEntrySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('dir'), path: relativePath, ...owner }),
  z.object({ type: z.literal('file'), path: relativePath, ...owner, size: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  z.object({ type: z.literal('symlink'), path: relativePath, target: z.string().min(1), uid: owner.uid, gid: owner.gid }),
]);
export type TreeEntry = z.infer<typeof treeEntrySchema>;

export interface FileDigest {
  size: number;
  sha256: string;
}

/** Thrown when a file of a backup is missing, of another kind, or differs from what the manifest says. */
export class DamagedBackupError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`);
    this.name = 'DamagedBackupError';
  }
}

function digestTap(): { tap: Transform; result: () => FileDigest } {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { tap, result: () => ({ size, sha256: hash.digest('hex') }) };
}

/** Size and SHA-256 of a file, read once. */
export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Copies a file to a new path (never over an existing one) and returns the digest of what was copied. */
async function copyFileWithDigest(from: string, to: string): Promise<FileDigest> {
  const { tap, result } = digestTap();
  await pipeline(createReadStream(from), tap, createWriteStream(to, { flags: 'wx', mode: 0o600 }));
  return result();
}

const isRoot = (): boolean => process.getuid?.() === 0;

async function setOwner(path: string, entry: TreeEntry): Promise<void> {
  if (!isRoot()) return;
  if (entry.type === 'symlink') await lchown(path, entry.uid, entry.gid);
  else await chown(path, entry.uid, entry.gid);
}

/**
 * Copies the tree at `from` to `to` (which must not exist) and returns its entries, `prefix`ed.
 * Names in `exclude` (relative to `from`) are left out; sockets and FIFOs are skipped.
 */
export async function copyTree(from: string, to: string, prefix: string, exclude: ReadonlySet<string> = new Set()): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const visit = async (relative: string): Promise<void> => {
    const source = relative ? join(from, relative) : from;
    const target = relative ? join(to, relative) : to;
    const path = relative ? `${prefix}/${relative}` : prefix;
    const stat = await lstat(source);
    const ownerOf = { uid: stat.uid, gid: stat.gid };
    if (stat.isSymbolicLink()) {
      const linkTarget = await readlink(source);
      await symlink(linkTarget, target);
      entries.push({ type: 'symlink', path, target: linkTarget, ...ownerOf });
    } else if (stat.isFile()) {
      const digest = await copyFileWithDigest(source, target);
      entries.push({ type: 'file', path, mode: stat.mode & 0o7777, ...ownerOf, ...digest });
    } else if (stat.isDirectory()) {
      await mkdir(target, { mode: 0o700 });
      entries.push({ type: 'dir', path, mode: stat.mode & 0o7777, ...ownerOf });
      for (const name of (await readdir(source)).sort()) {
        const child = relative ? `${relative}/${name}` : name;
        if (!exclude.has(child)) await visit(child);
      }
    }
  };
  await visit('');
  return entries;
}

/** Checks every entry against the files under `root`; throws DamagedBackupError naming each difference. */
export async function verifyTree(root: string, entries: readonly TreeEntry[]): Promise<void> {
  const problems: string[] = [];
  for (const entry of entries) {
    const path = join(root, entry.path);
    let stat;
    try {
      stat = await lstat(path);
    } catch {
      problems.push(`${entry.path}: missing`);
      continue;
    }
    if (entry.type === 'dir' && !stat.isDirectory()) problems.push(`${entry.path}: not a directory`);
    if (entry.type === 'symlink') {
      if (!stat.isSymbolicLink()) problems.push(`${entry.path}: not a symbolic link`);
      else if ((await readlink(path)) !== entry.target) problems.push(`${entry.path}: link target changed`);
    }
    if (entry.type === 'file') {
      if (!stat.isFile()) problems.push(`${entry.path}: not a regular file`);
      else if (stat.size !== entry.size) problems.push(`${entry.path}: ${stat.size} bytes, the manifest says ${entry.size}`);
      else if ((await digestFile(path)).sha256 !== entry.sha256) problems.push(`${entry.path}: SHA-256 differs from the manifest`);
    }
  }
  if (problems.length > 0) throw new DamagedBackupError(problems);
}

/**
 * Recreates the entries from `root` under `to` (which must not exist), checking each file's digest
 * as it is copied, then sets modes and owners (directories last, deepest first, so a read-only
 * directory does not stop its own contents from being written).
 */
export async function restoreTree(root: string, to: string, entries: readonly TreeEntry[]): Promise<void> {
  const problems: string[] = [];
  for (const entry of entries) {
    const target = join(to, entry.path);
    if (entry.type === 'dir') await mkdir(target, { recursive: true, mode: 0o700 });
    if (entry.type === 'symlink') await symlink(entry.target, target);
    if (entry.type === 'file') {
      const digest = await copyFileWithDigest(join(root, entry.path), target);
      if (digest.size !== entry.size || digest.sha256 !== entry.sha256) problems.push(`${entry.path}: changed while it was restored`);
      await chmod(target, entry.mode);
      await setOwner(target, entry);
    }
    if (entry.type === 'symlink') await setOwner(target, entry);
  }
  if (problems.length > 0) throw new DamagedBackupError(problems);
  const dirs = entries.filter((e) => e.type === 'dir').reverse();
  for (const dir of dirs) {
    const target = join(to, dir.path);
    await setOwner(target, dir);
    await chmod(target, dir.mode);
  }
}
