import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../../domain/shared/errors';
import { artifactKeyFor, digestOfKey, sha256Hex, type ArtifactStore, type StoredArtifact } from './artifact-store';

/**
 * Artifacts as files under one directory: `<root>/sha256/<first 2 hex>/<hex>`. Written to a
 * temporary name and renamed, so a reader never sees a half-written file and concurrent puts of
 * the same bytes are harmless. Files are private to the server (mode 0600): archives are user code.
 */
export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  async put(bytes: Buffer): Promise<StoredArtifact> {
    const sha256 = sha256Hex(bytes);
    const key = artifactKeyFor(sha256);
    const path = this.pathOf(sha256);
    if (!(await this.exists(key))) {
      await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temporary, bytes, { mode: 0o600, flag: 'wx' });
        await rename(temporary, path);
      } finally {
        await rm(temporary, { force: true });
      }
    }
    return { key, sha256, sizeBytes: bytes.length };
  }

  async get(key: string): Promise<Buffer> {
    const digest = digestOfKey(key);
    if (digest === null) throw new NotFoundError(`No artifact ${JSON.stringify(key)}`);
    try {
      return await readFile(this.pathOf(digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`No artifact ${key}`);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    const digest = digestOfKey(key);
    if (digest === null) return false;
    try {
      return (await stat(this.pathOf(digest))).isFile();
    } catch {
      return false;
    }
  }

  localPath(key: string): string | null {
    const digest = digestOfKey(key);
    return digest === null ? null : this.pathOf(digest);
  }

  private pathOf(digest: string): string {
    return join(this.root, 'sha256', digest.slice(0, 2), digest);
  }
}
