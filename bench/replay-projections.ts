/**
 * `ts-node --transpile-only bench/replay-projections.ts`: what each PostgreSQL projection costs a
 * rebuild, on the replay fixture history (`BENCH_REPLAY_EVENTS`, default 20 000; no telemetry
 * uploads): each projection rebuilt alone (wall time, PostgreSQL transactions), then all of them
 * from one read, and a raw read pass over the same store. Runs in-process against an embedded
 * PostgreSQL of its own on a temp directory (no CLI start-up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKnex } from '../src/infrastructure/database/knex';
import { PostgresEventStore } from '../src/infrastructure/eventstore/postgres-event-store';
import { createLogger } from '../src/infrastructure/logging/logger';
import { rebuildProjections } from '../src/projections/postgres/projection-rebuild';
import { migrateProjections } from '../src/projections/postgres/projection-runner';
import { createProjectionQuarantineTable } from '../src/projections/projection-quarantine';
import { allPostgresProjections } from '../src/runtime/app-container';
import { appendReplayHistory } from '../test/fixtures/events/replay-history';
import { startEmbeddedPostgres } from '../src/infrastructure/database/embedded-postgres';
import { freePort } from '../test/support/free-port';
import { rawReadPass } from './lib/raw-read-pass';
import { runBench } from './lib/run-bench';

const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 20_000);
const log = (message: string) => console.error(`[bench replay-projections] ${message}`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-replay-projections-'));
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort(), persistent: false });
  await server.ensureDatabase('bench');
  const databaseUrl = server.urlFor('bench');
  const db = createKnex(databaseUrl);
  const logger = createLogger({ level: 'warn' });
  const store = new PostgresEventStore(db, logger);
  try {
    await store.migrate();
    await migrateProjections(db, [...allPostgresProjections]);
    await createProjectionQuarantineTable(db);
    const appended = await appendReplayHistory(store, EVENTS);
    log(`${appended} events appended`);
    const commits = async () => Number((await db.raw<{ rows: { n: string }[] }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]!.n);
    const measure = async (label: string, projections: typeof allPostgresProjections) => {
      await db.raw('SELECT pg_stat_clear_snapshot()');
      const before = await commits();
      const startedAt = performance.now();
      const results = await rebuildProjections(db, store, projections, { logger });
      const seconds = (performance.now() - startedAt) / 1000;
      await new Promise((done) => setTimeout(done, 1100)); // a backend reports its counts up to a second later
      await db.raw('SELECT pg_stat_clear_snapshot()');
      const transactions = (await commits()) - before;
      const applied = results.reduce((sum, result) => sum + result.eventsApplied, 0);
      console.log(`${label.padEnd(24)} ${seconds.toFixed(2).padStart(7)} s  ${String(applied).padStart(7)} events applied  ~${transactions} transactions`);
      return seconds;
    };
    const read = await rawReadPass(databaseUrl);
    console.log(`raw read pass            ${(read.events / read.perSecond).toFixed(2).padStart(7)} s  ${read.events} events (${Math.round(read.perSecond)} events/s)`);
    for (const projection of allPostgresProjections) await measure(projection.name, [projection]);
    const all = await measure('all (one read)', allPostgresProjections);
    const again = await rawReadPass(databaseUrl);
    console.log(`raw read pass (again)    ${(again.events / again.perSecond).toFixed(2).padStart(7)} s`);
    console.log(`all / raw read pass: ${(((read.events / all) / ((read.perSecond + again.perSecond) / 2))).toFixed(3)}`);
  } finally {
    await store.close();
    await db.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench(main);
