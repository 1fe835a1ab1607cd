import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../../../infrastructure/config/config';
import { acquireDataDirLock, DataDirInUseError, type DataDirLock } from '../../../infrastructure/database/data-dir-lock';
import { stopStalePostmaster } from '../../../infrastructure/database/embedded-postgres';
import { BackupExit, isInside, refusedInUse } from './backup-command';
import { BACKUP_DATA_DIR, NotABackupError, readManifest, type BackupManifest } from './backup-manifest';
import { presentComponents, readEmbeddedPostgresFacts, shippedPostgresMajor, stateComponents } from './embedded-state';
import { DamagedBackupError, restoreTree, verifyTree } from './file-tree';

const STAGING_PREFIX = '.restore-';

/** Why a backup cannot go into this installation (another PostgreSQL major, a server configured instead). */
function incompatibility(manifest: BackupManifest, config: Config): string | null {
  const expected = stateComponents(config);
  const foreign = manifest.components.filter((c) => !expected.includes(c));
  if (foreign.length > 0) {
    return `it holds embedded ${foreign.join(' and ')} data, but this configuration uses a server for it (DATABASE_URL / CLICKHOUSE_URL)`;
  }
  const shipped = shippedPostgresMajor();
  if (manifest.components.includes('postgres') && manifest.versions.postgresMajor !== shipped) {
    return `its PostgreSQL data is version ${manifest.versions.postgresMajor ?? '?'}, this build ships PostgreSQL ${shipped ?? '(none)'}`;
  }
  return null;
}

/** The differences between what the manifest recorded and what the restored PostgreSQL holds. */
function factDifferences(manifest: BackupManifest, restored: Pick<BackupManifest, 'eventStore' | 'tables'>): string[] {
  const differences: string[] = [];
  const before = manifest.eventStore;
  const after = restored.eventStore;
  const same = before === null || after === null ? before === after : before.events === after.events && before.lastGlobalPosition === after.lastGlobalPosition && before.instanceId === after.instanceId;
  if (!same) differences.push(`event store ${JSON.stringify(after)}, the manifest says ${JSON.stringify(before)}`);
  for (const [table, rows] of Object.entries(manifest.tables)) {
    if (restored.tables[table] !== rows) differences.push(`${table}: ${restored.tables[table] ?? 'missing'} rows, the manifest says ${rows}`);
  }
  return differences;
}

/**
 * `arena restore <dir> [--force]`: checks the whole backup against its manifest before touching
 * DATA_DIR, takes DATA_DIR's lock (refused while the app runs), refuses a DATA_DIR that holds
 * state unless --force (which moves that state aside, never deletes it), copies into a staging
 * directory inside DATA_DIR, checking every file again, moves the components into place, and
 * finally starts the restored PostgreSQL to compare event count, last position and every
 * table's row count with the manifest.
 */
export async function restoreCommand(config: Config, args: string[]): Promise<number> {
  const force = args.includes('--force');
  const positional = args.filter((a) => a !== '--force');
  if (positional.length !== 1 || positional[0]!.startsWith('-')) {
    console.error('usage: arena restore <dir> [--force]   (--force: DATA_DIR holds state; it is moved to DATA_DIR/.pre-restore-<time>)');
    return BackupExit.usage;
  }
  const dir = resolve(positional[0]!);
  if (isInside(config.dataDir, dir) || isInside(dir, config.dataDir)) {
    console.error(`arena restore: refused: the backup ${dir} and DATA_DIR ${config.dataDir} overlap`);
    return BackupExit.usage;
  }
  let manifest: BackupManifest;
  try {
    manifest = await readManifest(dir);
    const reason = incompatibility(manifest, config);
    if (reason) throw new NotABackupError(dir, `it cannot be restored here: ${reason}`);
    console.error(`arena restore: checking ${manifest.entries.length} entries of the backup made ${manifest.createdAt}`);
    await verifyTree(join(dir, BACKUP_DATA_DIR), manifest.entries);
  } catch (error) {
    if (error instanceof NotABackupError) {
      console.error(`arena restore: refused: ${error.message}; DATA_DIR was not touched`);
      return BackupExit.dataError;
    }
    if (error instanceof DamagedBackupError) {
      console.error(`arena restore: refused: the backup ${dir} is damaged: ${error.message}; DATA_DIR was not touched`);
      return BackupExit.dataError;
    }
    throw error;
  }

  await mkdir(config.dataDir, { recursive: true });
  let lock: DataDirLock;
  try {
    lock = acquireDataDirLock(config.dataDir, `restore ${dir}`);
  } catch (error) {
    if (error instanceof DataDirInUseError) return refusedInUse('restore', error, 'stop that process before restoring into its DATA_DIR');
    throw error;
  }
  try {
    const existing = presentComponents(config.dataDir, stateComponents(config));
    if (existing.length > 0 && !force) {
      console.error(
        `arena restore: refused: DATA_DIR ${config.dataDir} holds state (${existing.join(', ')}); ` +
          'restore into an empty DATA_DIR, or pass --force to move the current state to DATA_DIR/.pre-restore-<time>',
      );
      return BackupExit.targetNotEmpty;
    }
    // A restore killed before it finished left its staging directory; we own DATA_DIR, so it is stale.
    for (const name of await readdir(config.dataDir)) {
      if (name.startsWith(STAGING_PREFIX)) await rm(join(config.dataDir, name), { recursive: true, force: true });
    }
    const staging = join(config.dataDir, `${STAGING_PREFIX}${randomUUID()}`);
    try {
      await restoreTree(join(dir, BACKUP_DATA_DIR), staging, manifest.entries);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (error instanceof DamagedBackupError) {
        console.error(`arena restore: refused: the backup ${dir} changed while it was read: ${error.message}; DATA_DIR was not touched`);
        return BackupExit.dataError;
      }
      throw error;
    }
    if (existing.length > 0) {
      // A PostgreSQL orphaned by a killed app may still run on the old directory: we own DATA_DIR, stop it.
      await stopStalePostmaster(join(config.dataDir, 'postgres'), lock);
      const aside = join(config.dataDir, `.pre-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      await mkdir(aside, { mode: 0o700 });
      for (const name of existing) await rename(join(config.dataDir, name), join(aside, name));
      console.error(`arena restore: the previous state (${existing.join(', ')}) was moved to ${aside}`);
    }
    for (const name of manifest.components) await rename(join(staging, name), join(config.dataDir, name));
    await rm(staging, { recursive: true, force: true });

    if (manifest.components.includes('postgres')) {
      const restored = await readEmbeddedPostgresFacts(config, lock);
      const differences = factDifferences(manifest, restored);
      if (differences.length > 0) {
        console.error(`arena restore: the restored PostgreSQL does not hold what the backup recorded: ${differences.slice(0, 10).join('; ')}`);
        return BackupExit.dataError;
      }
    }
    const events = manifest.eventStore;
    console.log(
      `restored ${manifest.components.join(', ')} into ${config.dataDir} from the backup of ${manifest.createdAt}` +
        `${events ? `: ${events.events} events, last global position ${events.lastGlobalPosition ?? 'none'}` : ''}` +
        `, ${Object.keys(manifest.tables).length} tables checked. Start the app; \`arena replay all\` rebuilds the read models from the events if wanted.`,
    );
    return BackupExit.ok;
  } finally {
    lock.release();
  }
}
