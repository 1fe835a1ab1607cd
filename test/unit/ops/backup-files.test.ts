import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  NotABackupError,
  readManifest,
  writeManifest,
  type BackupManifest,
} from '../../../src/runtime/ops/backup/backup-manifest';
import { copyTree, DamagedBackupError, restoreTree, verifyTree, type TreeEntry } from '../../../src/runtime/ops/backup/file-tree';

/** The file layer of `arena backup` / `arena restore` on real files: copy, verify, restore, and hostile manifests. */
describe('backup files and manifest', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'backup-files-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const sourceTree = () => {
    const source = join(root, 'source');
    mkdirSync(join(source, 'sub', 'empty'), { recursive: true });
    writeFileSync(join(source, 'a.bin'), Buffer.alloc(70_000, 7));
    writeFileSync(join(source, 'sub', 'b.txt'), 'hello', { mode: 0o640 });
    symlinkSync('/usr/bin/python3', join(source, 'sub', 'python3'));
    mkdirSync(join(root, 'backup', 'data'), { recursive: true });
    return source;
  };

  const manifestWith = (components: string[], entries: TreeEntry[]): BackupManifest => ({
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    dataDir: '/data',
    versions: { arena: '0', node: process.version, postgresMajor: null, postgresServer: null, embeddedPostgres: null, chdb: null },
    components,
    eventStore: null,
    tables: {},
    entries,
  });

  it('copies a tree with digests, verifies it, and restores files, empty directories, modes and links', async () => {
    const entries = await copyTree(sourceTree(), join(root, 'backup', 'artifacts'), 'artifacts');
    expect(entries.map((e) => `${e.type} ${e.path}`)).toEqual([
      'dir artifacts',
      'file artifacts/a.bin',
      'dir artifacts/sub',
      'file artifacts/sub/b.txt',
      'dir artifacts/sub/empty',
      'symlink artifacts/sub/python3',
    ]);
    await expect(verifyTree(join(root, 'backup'), entries)).resolves.toBeUndefined();
    await restoreTree(join(root, 'backup'), join(root, 'restored'), entries);
    expect(readFileSync(join(root, 'restored', 'artifacts', 'a.bin')).equals(Buffer.alloc(70_000, 7))).toBe(true);
    expect(statSync(join(root, 'restored', 'artifacts', 'sub', 'b.txt')).mode & 0o777).toBe(0o640);
    expect(statSync(join(root, 'restored', 'artifacts', 'sub', 'empty')).isDirectory()).toBe(true);
    expect(readlinkSync(join(root, 'restored', 'artifacts', 'sub', 'python3'))).toBe('/usr/bin/python3');
  });

  it('names every changed, truncated or missing file', async () => {
    const entries = await copyTree(sourceTree(), join(root, 'backup', 'artifacts'), 'artifacts');
    const a = join(root, 'backup', 'artifacts', 'a.bin');
    const bytes = readFileSync(a);
    bytes[12_345] = 8;
    writeFileSync(a, bytes);
    writeFileSync(join(root, 'backup', 'artifacts', 'sub', 'b.txt'), 'hell');
    rmSync(join(root, 'backup', 'artifacts', 'sub', 'empty'), { recursive: true });
    const failure = await verifyTree(join(root, 'backup'), entries).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DamagedBackupError);
    expect((failure as DamagedBackupError).problems).toEqual([
      'artifacts/a.bin: SHA-256 differs from the manifest',
      'artifacts/sub/b.txt: 4 bytes, the manifest says 5',
      'artifacts/sub/empty: missing',
    ]);
  });

  it('refuses a missing, truncated or hostile manifest', async () => {
    const dir = join(root, 'backup');
    mkdirSync(dir);
    await expect(readManifest(dir)).rejects.toThrow(new NotABackupError(dir, 'manifest.json is missing (the backup did not finish, or this is not a backup)'));
    const entries = await copyTree(sourceTree(), join(dir, 'data', 'artifacts'), 'artifacts');
    await writeManifest(dir, manifestWith(['artifacts'], entries));
    await expect(readManifest(dir)).resolves.toMatchObject({ components: ['artifacts'] });

    const text = readFileSync(join(dir, 'manifest.json'), 'utf8');
    writeFileSync(join(dir, 'manifest.json'), text.slice(0, text.length / 2));
    await expect(readManifest(dir)).rejects.toThrow('manifest.json is not valid JSON');

    const file = { mode: 0o600, uid: 0, gid: 0, size: 1, sha256: 'a'.repeat(64) };
    const dirEntry = { type: 'dir' as const, path: 'artifacts', mode: 0o700, uid: 0, gid: 0 };
    const hostile: [string, TreeEntry[], string][] = [
      ['a path out of the backup', [dirEntry, { type: 'file', path: 'artifacts/../../etc/passwd', ...file }], 'must be a relative path inside the backup'],
      ['an absolute path', [{ type: 'file', path: '/etc/passwd', ...file }], 'must be a relative path inside the backup'],
      ['a file outside the components', [dirEntry, { type: 'file', path: 'secrets', ...file }], 'secrets, which is not inside a component directory it lists'],
      [
        'a file reached through a symbolic link',
        [dirEntry, { type: 'symlink', path: 'artifacts/out', target: '/etc', uid: 0, gid: 0 }, { type: 'file', path: 'artifacts/out/cron', ...file }],
        'artifacts/out/cron, which is not inside a component directory it lists',
      ],
      ['an entry listed twice', [dirEntry, { type: 'file', path: 'artifacts/x', ...file }, { type: 'file', path: 'artifacts/x', ...file }], 'artifacts/x twice'],
    ];
    for (const [what, list, message] of hostile) {
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifestWith(['artifacts'], list)));
      const failure = await readManifest(dir).catch((error: unknown) => error);
      expect({ what, refused: failure instanceof NotABackupError }).toEqual({ what, refused: true });
      expect({ what, message: (failure as Error).message }).toEqual({ what, message: expect.stringContaining(message) as unknown });
    }
  });
});
