/**
 * ArtifactStore port: immutable blobs (submission archives) addressed by their content. The key is
 * derived from the sha256 of the bytes, so storing the same archive twice stores it once, and a
 * key says what it holds. Adapters: a local directory (default); an object store fits the same
 * port (keys become object names, `localPath` returns null).
 */
import { createHash } from 'node:crypto';

export interface StoredArtifact {
  /** `sha256/<hex>`: what events record and `get` takes. */
  key: string;
  sha256: string;
  sizeBytes: number;
}

export interface ArtifactStore {
  /** Stores the bytes (idempotent) and returns their content address. */
  put(bytes: Buffer): Promise<StoredArtifact>;
  /** The stored bytes; throws NotFoundError for an unknown key. */
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** The file holding the artifact for adapters on the local disk; null for remote stores. */
  localPath(key: string): string | null;
}

export const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export const artifactKeyFor = (sha256: string): string => `sha256/${sha256}`;

const KEY_PATTERN = /^sha256\/([0-9a-f]{64})$/;

/** The hex digest of a well-formed key, or null: keys reach file names, so nothing else is accepted. */
export function digestOfKey(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}
