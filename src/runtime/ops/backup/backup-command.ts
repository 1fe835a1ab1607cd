import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Config } from '../../../infrastructure/config/config';
import { acquireDataDirLock, DataDirInUseError, type DataDirLock } from '../../../infrastructure/database/data-dir-lock';
import { BACKUP_DATA_DIR, BACKUP_FORMAT, BACKUP_FORMAT_VERSION, writeManifest, type BackupManifest } from './backup-manifest';
import { EXCLUDED_FROM_BACKUP, presentComponents, readEmbeddedPostgresFacts, softwareVersions, stateComponents } from './embedded-state';
import { copyTree, type TreeEntry } from './file-tree';

/** Exit statuses of `arena backup` and `arena restore` (sysexits.h), listed in docs/operations.md. */
export const BackupExit = {
  ok: 0,
  usage: 2,
  /** The backup is damaged, incomplete or of another version. */
  dataError: 65,
  /** The target directory holds something already. */
  targetNotEmpty: 73,
  /** A running arena process owns DATA_DIR. */
  dataDirInUse: 75,
} as const;

const isEmptyOrMissing = async (dir: string): Promise<boolean> => {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
};

export const isInside = (parent: string, child: string): boolean => child === parent || child.startsWith(parent + sep);

export function refusedInUse(command: string, error: DataDirInUseError, advice: string): number {
  console.error(`arena ${command}: refused: ${error.message}; ${advice}`);
  return BackupExit.dataDirInUse;
}

/**
 * `arena backup <dir>`: a cold, consistent copy of the embedded state. It takes DATA_DIR's lock
 * (so it refuses while the app runs, and nothing starts while it copies), starts the embedded
 * PostgreSQL once to count events and rows and stops it cleanly, then copies PostgreSQL's and
 * chDB's directories and the stored files, hashing every file, and writes manifest.json last.
 */
export async function backupCommand(config: Config, args: string[]): Promise<number> {
  const [target, ...rest] = args;
  if (!target || rest.length > 0) {
    console.error('usage: arena backup <dir>   (an empty or new directory, outside DATA_DIR)');
    return BackupExit.usage;
  }
  const dir = resolve(target);
  if (isInside(config.dataDir, dir) || isInside(dir, config.dataDir)) {
    console.error(`arena backup: refused: ${dir} and DATA_DIR ${config.dataDir} overlap; write the backup elsewhere`);
    return BackupExit.usage;
  }
  const components = stateComponents(config);
  if (!components.includes('postgres') && !components.includes('chdb')) {
    console.error(
      'arena backup: DATABASE_URL and CLICKHOUSE_URL name servers: nothing of the event store, read models or analytics is embedded here. ' +
        'Back the servers up with their own tools (docs/operations.md, "Backup and restore"); DATA_DIR files can be copied as they are.',
    );
    return BackupExit.usage;
  }
  if (!(await isEmptyOrMissing(dir))) {
    console.error(`arena backup: refused: ${dir} is not empty; give a new or empty directory`);
    return BackupExit.targetNotEmpty;
  }
  let lock: DataDirLock;
  try {
    lock = acquireDataDirLock(config.dataDir, `backup ${dir}`);
  } catch (error) {
    if (error instanceof DataDirInUseError) {
      return refusedInUse('backup', error, 'the embedded engines are backed up cold: stop the app (SIGTERM), run `arena backup`, start it again');
    }
    throw error;
  }
  try {
    const present = presentComponents(config.dataDir, components);
    if (!present.includes('postgres') && !present.includes('chdb')) {
      console.error(`arena backup: DATA_DIR ${config.dataDir} holds no state yet (no postgres/ or chdb/); nothing to back up`);
      return BackupExit.usage;
    }
    if (present.includes('postgres') && !existsSync(join(config.dataDir, 'postgres', 'PG_VERSION'))) {
      console.error(`arena backup: ${join(config.dataDir, 'postgres')} is not a PostgreSQL data directory (no PG_VERSION); start the app once, or remove it`);
      return BackupExit.dataError;
    }
    const versions = softwareVersions(config.dataDir, present);
    let facts: Pick<BackupManifest, 'eventStore' | 'tables'> = { eventStore: null, tables: {} };
    if (present.includes('postgres')) {
      console.error('arena backup: reading the event store and read models (embedded PostgreSQL, then a clean shutdown)');
      const { serverVersion, ...read } = await readEmbeddedPostgresFacts(config, lock);
      versions.postgresServer = serverVersion;
      facts = read;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const entries: TreeEntry[] = [];
    try {
      await mkdir(join(dir, BACKUP_DATA_DIR), { mode: 0o700 });
      for (const component of present) {
        const exclude = new Set([...EXCLUDED_FROM_BACKUP].filter((p) => p.startsWith(`${component}/`)).map((p) => p.slice(component.length + 1)));
        const copied = await copyTree(join(config.dataDir, component), join(dir, BACKUP_DATA_DIR, component), component, exclude);
        entries.push(...copied);
        console.error(`arena backup: ${component}: ${copied.filter((e) => e.type === 'file').length} files`);
      }
    } catch (error) {
      // A half-written backup must not look like one: remove what was copied (there is no manifest yet).
      await rm(join(dir, BACKUP_DATA_DIR), { recursive: true, force: true });
      throw error;
    }
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      dataDir: config.dataDir,
      versions,
      components: present,
      ...facts,
      entries,
    };
    await writeManifest(dir, manifest);
    const bytes = entries.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0);
    console.log(
      `backup written to ${dir}: ${present.join(', ')}; ` +
        `${facts.eventStore ? `${facts.eventStore.events} events (last global position ${facts.eventStore.lastGlobalPosition ?? 'none'}), ` : ''}` +
        `${Object.keys(facts.tables).length} tables, ${entries.length} entries, ${bytes} bytes`,
    );
    return BackupExit.ok;
  } finally {
    lock.release();
  }
}
