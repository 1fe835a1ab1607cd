import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { z } from 'zod';
import type { Config } from '../../../infrastructure/config/config';
import type { DataDirLock } from '../../../infrastructure/database/data-dir-lock';
import { startEmbeddedPostgres } from '../../../infrastructure/database/embedded-postgres';
import { EMBEDDED_DATABASE } from '../../open-services';
import type { BackupManifest } from './backup-manifest';

/**
 * What of DATA_DIR is the embedded state a backup holds. The engines' directories only when the
 * configuration runs them embedded (a server is backed up with its own tools: docs/operations.md);
 * the files (uploaded agent code, built agents, replays, generated secrets) always.
 * Left out: `run/` (the admin socket), `arena.lock`, `builds/.pip-cache` (a download cache).
 */
export function stateComponents(config: Config): string[] {
  return [
    ...(config.DATABASE_URL ? [] : ['postgres']),
    ...(config.CLICKHOUSE_URL ? [] : ['chdb']),
    'artifacts',
    'replays',
    'builds',
    'jwt-secret',
    'analyst-password',
  ];
}

/** Paths (relative to DATA_DIR) copied by no backup. */
export const EXCLUDED_FROM_BACKUP = new Set(['builds/.pip-cache', 'postgres/postmaster.pid']);

/** The components of `config`'s list that exist in `dataDir`. */
export const presentComponents = (dataDir: string, components: readonly string[]): string[] =>
  components.filter((name) => existsSync(join(dataDir, name)));

/** The version of an installed package (found from its entry point: some packages do not export package.json). */
const packageVersion = (name: string): string | null => {
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const parsed = z.object({ name: z.string().optional(), version: z.string().optional() }).safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success && parsed.data.name === name && parsed.data.version) return parsed.data.version;
  }
  return null;
};

/** The major version of the PostgreSQL binaries this build ships (embedded-postgres' platform package). */
export function shippedPostgresMajor(): string | null {
  const version = packageVersion(`@embedded-postgres/${process.platform}-${process.arch}`);
  return version ? (version.split('.')[0] ?? null) : null;
}

export function softwareVersions(dataDir: string, components: readonly string[]): BackupManifest['versions'] {
  const pgVersionFile = join(dataDir, 'postgres', 'PG_VERSION');
  return {
    arena: appVersion(),
    node: process.version,
    postgresMajor: components.includes('postgres') && existsSync(pgVersionFile) ? readFileSync(pgVersionFile, 'utf8').trim() : null,
    postgresServer: null,
    embeddedPostgres: components.includes('postgres') ? packageVersion('embedded-postgres') : null,
    chdb: components.includes('chdb') ? packageVersion('chdb') : null,
  };
}

/** This app's version: the package.json above this file (src/ or dist/src/). */
function appVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const parsed = z.object({ name: z.string(), version: z.string() }).safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success && parsed.data.name === 'lapxcel-arena') return parsed.data.version;
  }
  return 'unknown';
}

export interface PostgresFacts {
  serverVersion: string;
  eventStore: BackupManifest['eventStore'];
  tables: Record<string, number>;
}

const count = z.coerce.number().int();

/**
 * Starts the embedded PostgreSQL of DATA_DIR (whose lock the caller holds), reads the facts a
 * manifest records, and stops it cleanly, which leaves its data directory consistent on disk.
 */
export async function readEmbeddedPostgresFacts(config: Config, lock: DataDirLock): Promise<PostgresFacts> {
  const server = await startEmbeddedPostgres({
    dataDir: join(config.dataDir, 'postgres'),
    port: config.EMBEDDED_POSTGRES_PORT,
    persistent: true,
    ownedDataDir: lock,
  });
  try {
    const admin = new Client({ connectionString: server.url });
    admin.on('error', () => undefined);
    await admin.connect();
    let hasDatabase: boolean;
    let serverVersion: string;
    try {
      hasDatabase = ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE])).rowCount ?? 0) > 0;
      serverVersion = z.string().parse((await admin.query('SHOW server_version')).rows[0]?.server_version);
    } finally {
      await admin.end();
    }
    if (!hasDatabase) return { serverVersion, eventStore: null, tables: {} };
    const client = new Client({ connectionString: server.urlFor(EMBEDDED_DATABASE) });
    client.on('error', () => undefined);
    await client.connect();
    try {
      // One snapshot for every count: the server is ours alone, but the numbers should agree anyway.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const tables: Record<string, number> = {};
      const listed = await client.query(
        `SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
          ORDER BY 1, 2`,
      );
      for (const row of z.array(z.object({ table_schema: z.string(), table_name: z.string() })).parse(listed.rows)) {
        const quoted = `"${row.table_schema.replace(/"/g, '""')}"."${row.table_name.replace(/"/g, '""')}"`;
        const counted = await client.query(`SELECT count(*) AS n FROM ${quoted}`);
        tables[`${row.table_schema}.${row.table_name}`] = count.parse(counted.rows[0]?.n);
      }
      let eventStore: BackupManifest['eventStore'] = null;
      if (!config.ESDB_URL && 'eventstore.events' in tables) {
        const events = await client.query('SELECT count(*) AS n, max(global_position)::text AS last FROM eventstore.events');
        const identity = 'eventstore.store_identity' in tables ? await client.query('SELECT instance_id::text AS id FROM eventstore.store_identity') : null;
        const row = z.object({ n: count, last: z.string().nullable() }).parse(events.rows[0]);
        eventStore = { events: row.n, lastGlobalPosition: row.last, instanceId: z.string().nullable().parse(identity?.rows[0]?.id ?? null) };
      }
      await client.query('COMMIT');
      return { serverVersion, eventStore, tables };
    } finally {
      await client.end();
    }
  } finally {
    await server.stop();
  }
}
