/**
 * `arena replay all` applies pages in bulk (projection-rebuild.ts): the streams' revisions kept in
 * memory and written once per page, runs of one event type through the projections' batch handlers
 * (`batchOn`). The rows must be the ones applying event after event gives (what the live path and
 * every earlier replay did), for every PostgreSQL projection, including when the history has an
 * event that cannot be applied in the middle of a run (the page is then applied isolated).
 */
import type { AnyDomainEvent } from '../../../src/domain/domain-events';
import { createKnex, type Knex } from '../../../src/infrastructure/database/knex';
import { toNewEvent } from '../../../src/infrastructure/eventstore/event-decoding';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { createProjectionRevisionsTable, PROJECTION_REVISIONS_TABLE, type PostgresProjection } from '../../../src/projections/postgres/postgres-projection';
import { rebuildProjections } from '../../../src/projections/postgres/projection-rebuild';
import { applyBatch, migrateProjections } from '../../../src/projections/postgres/projection-runner';
import { encodeEnvelope } from '../../../src/infrastructure/bus/event-envelope';
import { claimRevision } from '../../../src/projections/postgres/postgres-projection';
import { createProjectionQuarantineTable } from '../../../src/projections/projection-quarantine';
import { allPostgresProjections } from '../../../src/runtime/app-container';
import { appendReplayHistory } from '../../fixtures/events/replay-history';
import { waitFor } from '../eventstore/event-store-test-helpers';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';

const logger = createLogger({ name: 'bulk-rebuild-test', level: process.env.TEST_LOG_LEVEL ?? 'error' });

let databaseUrl: string;
let db: Knex;
let store: PostgresEventStore;

beforeAll(async () => {
  databaseUrl = await createTestDatabase('bulkrebuild');
  db = createKnex(databaseUrl);
  store = new PostgresEventStore(db, logger);
  await store.migrate();
  await migrateProjections(db, [...allPostgresProjections]);
  await createProjectionQuarantineTable(db);
});

afterAll(async () => {
  await store?.close();
  await db?.destroy();
  if (databaseUrl) await dropTestDatabase(databaseUrl);
});

/**
 * The reference: every event of the projection's categories applied one by one with `apply`, in
 * store order, into a schema of its own; an event that cannot be applied is skipped (quarantined).
 */
async function appliedOneByOne(projection: PostgresProjection, schema: string): Promise<void> {
  await db.raw(`CREATE SCHEMA ${schema}`);
  await db.transaction(async (trx) => {
    await trx.raw(`SET LOCAL search_path TO ${schema}`);
    await createProjectionRevisionsTable(trx);
    await projection.createTables(trx);
    for (const event of await store.readAll({ maxCount: 1_000_000 })) {
      if (!projection.categories.includes(event.streamId.split('-')[0]!)) continue;
      if (projection.handles.includes(event.type)) {
        try {
          await trx.transaction((savepoint) => projection.apply(event, savepoint));
        } catch {
          continue;
        }
      }
      await trx(PROJECTION_REVISIONS_TABLE)
        .insert({ projection: projection.name, stream_id: event.streamId, revision: event.revision.toString() })
        .onConflict(['projection', 'stream_id'])
        .merge();
    }
  });
}

/**
 * The live path: the projection's messages in batches of `size` through `applyBatch`, one
 * transaction each; a batch that fails is applied one message at a time and the message that
 * cannot be applied only moves the revision, as the runner does (it quarantines it).
 */
async function appliedLive(projection: PostgresProjection, schema: string, size: number): Promise<void> {
  await db.raw(`CREATE SCHEMA ${schema}`);
  const inSchema = async <T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> =>
    db.transaction(async (trx) => {
      await trx.raw(`SET LOCAL search_path TO ${schema}`);
      return work(trx);
    });
  await inSchema(async (trx) => {
    await createProjectionRevisionsTable(trx);
    await projection.createTables(trx);
  });
  const events = (await store.readAll({ maxCount: 1_000_000 })).filter((event) => projection.categories.includes(event.streamId.split('-')[0]!));
  const messages = events.map((event, i) => ({ topic: 't', partition: 0, offset: String(i), key: event.streamId, value: encodeEnvelope(event), headers: {} }));
  for (let start = 0; start < messages.length; start += size) {
    const batch = messages.slice(start, start + size);
    try {
      await inSchema((trx) => applyBatch(projection, batch, trx));
    } catch {
      for (const [i, message] of batch.entries()) {
        try {
          await inSchema((trx) => applyBatch(projection, [message], trx));
        } catch {
          const event = events[start + i]!;
          await inSchema((trx) => claimRevision(projection, event.streamId, event.revision, trx));
        }
      }
    }
  }
}

/** Every row of the table (and the projection's revisions), as text, in one order. */
async function rowsOf(schema: string, table: string): Promise<string[]> {
  const result = await db.raw<{ rows: { row: string }[] }>(`SELECT t::text AS row FROM ${schema}."${table}" t ORDER BY 1`);
  return result.rows.map((row) => row.row);
}

async function revisionsOf(schema: string, projection: string): Promise<string[]> {
  const result = await db.raw<{ rows: { row: string }[] }>(
    `SELECT stream_id || '@' || revision AS row FROM ${schema}.${PROJECTION_REVISIONS_TABLE} WHERE projection = ? ORDER BY 1`,
    [projection],
  );
  return result.rows.map((row) => row.row);
}

describe('replay all applies pages in bulk, with the rows of one-by-one application', () => {
  it('rebuilds every PostgreSQL projection to the rows of applying each event in turn, a bad event quarantined alone', async () => {
    // ~1 300 events of every projection; small pages so that runs span pages and pages end mid-stream.
    const appended = await appendReplayHistory(store, 1290, { telemetryBatches: true });
    expect(appended).toBeGreaterThan(1200);
    // A lap that cannot be applied, among laps of the same session (a run for the batch handlers).
    const sessionId = '00000000-0000-4000-8000-00000000ff00';
    const context = { sessionId, ownerId: '00000000-0000-4000-8000-000000001000', trackName: 'Monza', carModel: 'GT3' };
    const lap = (lapNumber: number, lapTimeMs: number): AnyDomainEvent => ({
      type: 'LapCompleted',
      data: {
        ...context,
        lapNumber,
        lapTimeMs,
        sectorTimesMs: [30_000, null, lapTimeMs - 30_000],
        valid: true,
        invalidReasons: [],
        invalidDetails: [],
        isVerified: true,
        estimated: false,
        startedAtMs: 1_767_225_600_000 + lapNumber * 100_000,
        endedAtMs: 1_767_225_600_000 + lapNumber * 100_000 + lapTimeMs,
        sampleCount: 4000,
        maxSpeedKmh: 300,
        meanSpeedKmh: 200,
        distanceM: 5793,
        fullThrottleFraction: 0.7,
        brakingFraction: 0.1,
        coastingFraction: 0.05,
      },
    });
    const created: AnyDomainEvent = {
      type: 'SessionCreated',
      data: { ...context, sessionName: 'with a bad lap', weatherConditions: null, trackTemperatureC: null, airTemperatureC: null, trackLengthM: null, createdAt: '2026-01-01T00:00:00.000Z' },
    };
    const bad = { type: 'LapCompleted', data: { ...context, lapNumber: 'three' }, metadata: toNewEvent(lap(3, 1)).metadata };
    await store.append(`session-${sessionId}`, [toNewEvent(created), toNewEvent(lap(1, 81_000)), toNewEvent(lap(2, 80_000)), bad, toNewEvent(lap(4, 79_500))], {
      expectedRevision: 'no_stream',
    });

    // The store holds back a write just answered while an older transaction runs anywhere on the
    // server (suites share it): the baseline below reads once, so it waits until all of it is readable.
    await waitFor(`${appended + 5} events readable`, async () => (await store.readAll({ maxCount: 1_000_000 })).length >= appended + 5, 30_000);
    for (const [i, projection] of allPostgresProjections.entries()) await appliedOneByOne(projection, `one_by_one_${i}`);

    const results = await rebuildProjections(db, store, allPostgresProjections, { logger, batchSize: 97 });

    for (const [i, projection] of allPostgresProjections.entries()) {
      for (const table of projection.tables) {
        const expected = await rowsOf(`one_by_one_${i}`, table);
        expect({ table, rows: await rowsOf('public', table) }).toEqual({ table, rows: expected });
      }
      expect({ projection: projection.name, revisions: await revisionsOf('public', projection.name) }).toEqual({
        projection: projection.name,
        revisions: await revisionsOf(`one_by_one_${i}`, projection.name),
      });
    }
    // The bad lap is quarantined by the two projections that handle laps, and only it.
    const quarantined = results.flatMap((result) => result.quarantined.map((entry) => `${entry.projection} ${entry.streamId}@${entry.revision}`)).sort();
    expect(quarantined).toEqual([`racing_leaderboards session-${sessionId}@3`, `telemetry_sessions session-${sessionId}@3`]);
    // The laps around it count: the session's best is the last lap, three laps counted.
    expect(await db('telemetry_sessions').where({ id: sessionId }).first()).toMatchObject({ total_laps: 3, valid_laps: 3, best_lap_time_ms: 79_500 });
    expect(await db('racing_leaderboard').where({ user_id: context.ownerId, category: 'overall' }).first()).toMatchObject({ time_ms: 79_500, valid_laps: 3 });
  }, 600_000); // the one-by-one reference is slow on a loaded machine

  it('rebuilds to the same rows with fold windows of a few pages, the window holding the bad lap applied again page by page', async () => {
    // The history of the first test and its one-by-one references: windows of 250 handled events
    // are written one after the other, so later windows change rows that earlier ones wrote.
    const results = await rebuildProjections(db, store, allPostgresProjections, { logger, batchSize: 97, foldWindowEvents: 250 });
    for (const [i, projection] of allPostgresProjections.entries()) {
      for (const table of projection.tables) {
        expect({ table, rows: await rowsOf('public', table) }).toEqual({ table, rows: await rowsOf(`one_by_one_${i}`, table) });
      }
      expect({ projection: projection.name, revisions: await revisionsOf('public', projection.name) }).toEqual({
        projection: projection.name,
        revisions: await revisionsOf(`one_by_one_${i}`, projection.name),
      });
    }
    const quarantined = results.flatMap((result) => result.quarantined.map((entry) => `${entry.projection} ${entry.streamId}@${entry.revision}`));
    expect(quarantined.length).toBe(2);
    expect(quarantined.every((entry) => entry.endsWith('@3'))).toBe(true);
  }, 600_000);

  it('applies live batches (runs of one type through batchOn) to the same rows as one by one', async () => {
    // The history of the test above; the references it built are still there.
    for (const [i, projection] of allPostgresProjections.entries()) {
      await appliedLive(projection, `live_${i}`, 61);
      for (const table of projection.tables) {
        expect({ table, rows: await rowsOf(`live_${i}`, table) }).toEqual({ table, rows: await rowsOf(`one_by_one_${i}`, table) });
      }
      expect({ projection: projection.name, revisions: await revisionsOf(`live_${i}`, projection.name) }).toEqual({
        projection: projection.name,
        revisions: await revisionsOf(`one_by_one_${i}`, projection.name),
      });
    }
  }, 600_000);
});
