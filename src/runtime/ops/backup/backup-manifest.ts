import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { treeEntrySchema } from './file-tree';

/** Layout of a backup directory: `manifest.json` (written last) and `data/<component>/...`. */
export const MANIFEST_FILE = 'manifest.json';
export const BACKUP_DATA_DIR = 'data';
export const BACKUP_FORMAT = 'lapxcel-arena-backup';
export const BACKUP_FORMAT_VERSION = 1;

/**
 * What a backup holds and how to check it: the versions that wrote it, the event store's size and
 * last position, every table's row count (checked again after a restore), and every file's digest.
 */
export const backupManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  createdAt: z.string(),
  dataDir: z.string(),
  versions: z.object({
    arena: z.string(),
    node: z.string(),
    /** PostgreSQL major version of the data directory (its PG_VERSION file); null without embedded PostgreSQL. */
    postgresMajor: z.string().nullable(),
    postgresServer: z.string().nullable(),
    embeddedPostgres: z.string().nullable(),
    chdb: z.string().nullable(),
  }),
  /** Top-level names of DATA_DIR in the backup: postgres, chdb, artifacts, replays, builds, jwt-secret, analyst-password. */
  components: z.array(z.string().regex(/^[\w.-]+$/)),
  eventStore: z
    .object({
      instanceId: z.string().nullable(),
      events: z.number().int().min(0),
      /** Highest global position (sequence) in the store; null when it is empty. */
      lastGlobalPosition: z.string().regex(/^\d+$/).nullable(),
    })
    .nullable(),
  /** `schema.table` -> exact row count, over the embedded PostgreSQL's arena database. */
  tables: z.record(z.string(), z.number().int().min(0)),
  entries: z.array(treeEntrySchema),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export class NotABackupError extends Error {
  constructor(dir: string, reason: string) {
    super(`${dir} is not a complete arena backup: ${reason}`);
    this.name = 'NotABackupError';
  }
}

/** Written to a temporary name and renamed: a backup without its manifest is an incomplete one. */
export async function writeManifest(dir: string, manifest: BackupManifest): Promise<void> {
  const file = join(dir, MANIFEST_FILE);
  await writeFile(`${file}.partial`, `${JSON.stringify(manifest, null, 1)}\n`, { mode: 0o600 });
  await rename(`${file}.partial`, file);
}

export async function readManifest(dir: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NotABackupError(dir, code === 'ENOENT' ? `${MANIFEST_FILE} is missing (the backup did not finish, or this is not a backup)` : `${MANIFEST_FILE} cannot be read (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new NotABackupError(dir, `${MANIFEST_FILE} is not valid JSON (truncated or edited?)`);
  }
  const parsed = backupManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NotABackupError(dir, `${MANIFEST_FILE} is not a manifest this version reads (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`);
  }
  const misplaced = misplacedEntry(parsed.data);
  if (misplaced) throw new NotABackupError(dir, `${MANIFEST_FILE} lists ${misplaced}`);
  return parsed.data;
}

/**
 * Every entry must sit in a component, below a directory listed before it: so no entry is reached
 * through a symbolic link (which could point outside DATA_DIR) and none is listed twice.
 */
function misplacedEntry(manifest: BackupManifest): string | null {
  const dirs = new Set<string>();
  const seen = new Set<string>();
  for (const entry of manifest.entries) {
    const slash = entry.path.lastIndexOf('/');
    if (slash < 0 ? !manifest.components.includes(entry.path) : !dirs.has(entry.path.slice(0, slash))) {
      return `${entry.path}, which is not inside a component directory it lists`;
    }
    if (seen.has(entry.path)) return `${entry.path} twice`;
    seen.add(entry.path);
    if (entry.type === 'dir') dirs.add(entry.path);
  }
  return null;
}
