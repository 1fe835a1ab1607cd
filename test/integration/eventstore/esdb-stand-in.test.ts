import { randomUUID } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { mapError } from '../../../src/api/shared/error-mapping';
import { createSession, recordTelemetryBatch } from '../../../src/commands/racing/telemetry-session-commands';
import { TelemetrySessionRepository } from '../../../src/commands/racing/telemetry-session-repository';
import { InProcessMessageBus } from '../../../src/infrastructure/bus/in-process-bus';
import { AppendTooLargeError, EventStoreServerUnsuitableError, WrongExpectedRevisionError } from '../../../src/infrastructure/eventstore/errors';
import { EventStoreDbEventStore } from '../../../src/infrastructure/eventstore/esdb-event-store';
import { PostgresEventStore } from '../../../src/infrastructure/eventstore/postgres-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { EventRelay } from '../../../src/infrastructure/relay/event-relay';
import { CheckpointStoreMismatchError, RelayCheckpoints } from '../../../src/infrastructure/relay/relay-checkpoints';
import { EsdbStandIn } from '../../support/esdb-stand-in';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';
import { eventStoreContract } from './event-store.contract';
import { DeliveryRecorder, newEvent, uniqueStream, waitFor } from './event-store-test-helpers';

/**
 * How our EventStoreDB adapter uses the real client (@eventstore/db-client), checked against a
 * STAND-IN gRPC server (test/support/esdb-stand-in.ts) built from the client's own protocol code.
 * It is not EventStoreDB: the same cases run against a real server in esdb-event-store.test.ts
 * when ESDB_URL is set.
 */
const logger = createLogger({ level: 'silent' });

describe('EventStoreDbEventStore against the EventStoreDB stand-in', () => {
  let standIn: EsdbStandIn;
  const stores: EventStoreDbEventStore[] = [];

  function openStore(options: ConstructorParameters<typeof EventStoreDbEventStore>[2] = {}, query = ''): EventStoreDbEventStore {
    const store = new EventStoreDbEventStore(standIn.connectionString + query, logger, options);
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    standIn = new EsdbStandIn();
    await standIn.start();
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
    await standIn?.stop();
  });

  eventStoreContract('EventStoreDB client against the stand-in', async () => openStore());

  describe('system and foreign events', () => {
    it('reads past pages holding only system events instead of taking them for the end', async () => {
      const store = openStore({ readPageSize: 10 });
      const streamId = uniqueStream('paged');
      const first = await store.append(streamId, [newEvent('Before')], { expectedRevision: 'no_stream' });
      for (let n = 0; n < 35; n += 1) standIn.seed({ streamId: '$stats-127.0.0.1:2113', type: '$statsCollected', data: '{}' });
      await store.append(streamId, [newEvent('After')], { expectedRevision: 0n });
      const page = await store.readAll({ after: first.position, maxCount: 5 });
      expect(page.map((event) => event.type)).toEqual(['After']);
      expect(standIn.openCalls()).toBe(0);
    });

    it('skips and counts events this system did not write, in reads and subscriptions, and goes on', async () => {
      const store = openStore({ readPageSize: 4 });
      const streamId = uniqueStream('mixed');
      const start = await store.append(streamId, [newEvent('Ours', { n: 0 })], { expectedRevision: 'no_stream' });
      const foreignStream = uniqueStream('legacy');
      standIn.seed({ streamId: foreignStream, type: 'Blob', data: Buffer.from([0, 1, 2, 255]), contentType: 'application/octet-stream' });
      standIn.seed({ streamId: foreignStream, type: 'Text', data: 'not json at all' });
      standIn.seed({ streamId: foreignStream, type: 'List', data: '[1,2,3]' });
      standIn.seed({ streamId: foreignStream, type: 'ArrayMeta', data: '{}', metadata: '["a"]' });
      standIn.seed({ streamId: foreignStream, type: 'BinaryMeta', data: '{}', metadata: Buffer.from([0xff, 0xfe]) });
      await store.append(streamId, [newEvent('Ours', { n: 1 })], { expectedRevision: 0n });

      const read = await store.readAll({ after: start.position });
      expect(read.filter((event) => event.streamId === streamId).map((event) => event.data.n)).toEqual([1]);
      expect(read.some((event) => event.streamId === foreignStream)).toBe(false);
      expect(store.foreignEventsSkipped).toBe(5);
      await store.readAll({ after: start.position });
      expect(store.foreignEventsSkipped).toBe(5); // each counted once

      const recorder = new DeliveryRecorder(new Set([streamId]));
      const subscription = store.subscribeToAll({ after: start.position, onEvent: recorder.onEvent, onError: recorder.onError });
      await recorder.waitForCount(1);
      await subscription.stop();
      expect(recorder.errors).toEqual([]);
      expect(recorder.delivered.map((event) => event.data.n)).toEqual([1]);
      expect(await store.readStream(foreignStream)).toEqual([]);
    });
  });

  describe('gRPC calls', () => {
    it('a relay catch-up over more than 100 pages leaves no read call open on the server', async () => {
      const database = await createTestDatabase('esdb_relay');
      const db = knexFactory({ client: 'pg', connection: database, pool: { min: 0, max: 4 } });
      try {
        const store = openStore({ readPageSize: 20 });
        await standIn.stop(); // a fresh log: only this test's events
        standIn = new EsdbStandIn();
        await standIn.start();
        const relayStore = openStore({ readPageSize: 20 });
        const padding = 'x'.repeat(2000); // > 64 KiB per page: an abandoned call cannot finish by itself
        const streams = Array.from({ length: 21 }, () => uniqueStream('relayed'));
        for (const streamId of streams) {
          await relayStore.append(streamId, Array.from({ length: 100 }, (_, n) => newEvent('Relayed', { n, padding })), { expectedRevision: 'no_stream' });
        }
        const bus = new InProcessMessageBus(db, logger, { groupNamespace: 'esdb-stand-in.' });
        await bus.migrate();
        const checkpoints = new RelayCheckpoints(db);
        await checkpoints.migrate();
        const relay = new EventRelay(relayStore, bus, checkpoints, logger, { topicPrefix: 'esdb-stand-in.', batchSize: 20 });
        const callsBefore = standIn.readCalls;
        expect(await relay.relayPending()).toBe(2100);
        expect(standIn.readCalls - callsBefore).toBeGreaterThan(100);
        await waitFor('cancelled calls to close', () => standIn.openCalls() === 0, 5000).catch(() => undefined);
        expect(standIn.openCalls()).toBe(0);
        // The connection still answers.
        await relayStore.ping();
        await store.close();
        await bus.close();
      } finally {
        await db.destroy();
        await dropTestDatabase(database);
      }
    }, 300_000);
  });

  describe('appends', () => {
    it('maps a size rejection to AppendTooLargeError, answered 413 with the contract body', async () => {
      const store = openStore();
      const streamId = uniqueStream('big');
      const error: unknown = await store
        .append(streamId, [newEvent('Huge', { blob: 'y'.repeat(1_100_000) })], { expectedRevision: 'no_stream' })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppendTooLargeError);
      expect(error).toMatchObject({ maxAppendSizeBytes: 1024 * 1024 });
      const mapped = mapError(error, 'req-1');
      expect(mapped.status).toBe(413);
      expect(mapped.body).toMatchObject({ status_code: 413, code: 'PAYLOAD_TOO_LARGE', error_type: 'PayloadTooLargeError' });
      expect(await store.readStream(streamId)).toEqual([]);
    });

    it('a conflict is an error also with throwOnAppendFailure=false in the connection string', async () => {
      const store = openStore({}, '&throwOnAppendFailure=false');
      const streamId = uniqueStream('quiet');
      await store.append(streamId, [newEvent('First')], { expectedRevision: 'no_stream' });
      await expect(store.append(streamId, [newEvent('Second')], { expectedRevision: 'no_stream' })).rejects.toMatchObject({
        constructor: WrongExpectedRevisionError,
        actual: 0n,
      });
      await expect(store.append(uniqueStream('quiet'), [newEvent('X')], { expectedRevision: 3n })).rejects.toMatchObject({
        constructor: WrongExpectedRevisionError,
        actual: 'no_stream',
      });
      expect((await store.readStream(streamId)).map((event) => event.type)).toEqual(['First']);
    });

    it('a retried append with the same ids at the same exact revision stores nothing twice', async () => {
      const store = openStore();
      const streamId = uniqueStream('retried');
      await store.append(streamId, [newEvent('A')], { expectedRevision: 'no_stream' });
      const batch = [newEvent('B', {}, { id: randomUUID() }), newEvent('C', {}, { id: randomUUID() })];
      const first = await store.append(streamId, batch, { expectedRevision: 0n });
      const again = await store.append(streamId, batch, { expectedRevision: 0n });
      expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
      expect((await store.readStream(streamId)).map((event) => event.type)).toEqual(['A', 'B', 'C']);
    });
  });

  describe('telemetry uploads under the 1 MiB append limit', () => {
    it('records a 100,000-point upload in parts, exact revisions only, and a retry after a failed part completes it', async () => {
      const store = openStore();
      const sessions = new TelemetrySessionRepository(store);
      const ctx = { store, now: () => new Date('2026-01-01T00:00:00Z'), newId: randomUUID, metadata: {} };
      const created = await createSession(ctx, sessions, 'driver-1', {
        sessionName: 'Stint',
        trackName: 'Monza',
        carModel: 'GT3',
        weatherConditions: null,
        trackTemperatureC: null,
        airTemperatureC: null,
        trackLengthM: null,
      });
      const streamId = `session-${created.sessionId}`;
      const T0 = Date.UTC(2024, 0, 15);
      const points = Array.from({ length: 100_000 }, (_, i) => ({
        timestamp: new Date(T0 + i * 10).toISOString(),
        speed_kmh: 150 + (i % 97) / 3,
        throttle_input: (i % 11) / 13,
        brake_input: (i % 7) / 17,
        steering_input: ((i % 21) - 10) / 11,
        gear: 1 + (i % 6),
        rpm: 4000 + (i % 4000) / 7,
        world_x: Math.sin(i / 1000) * 1234.56789,
        world_z: Math.cos(i / 1000) * 987.654321,
      }));
      const input = { sessionId: created.sessionId, userId: 'driver-1', batchId: 'huge', dataPoints: points, maxPoints: 100_000, maxPartBytes: 512 * 1024 };
      const appendsBefore = standIn.appends.length;
      standIn.appendsBeforeFailure = 5;
      await expect(recordTelemetryBatch(ctx, sessions, input)).rejects.toThrow();
      const stored = () => store.readStream(streamId);
      const partsAfterFailure = (await stored()).filter((event) => event.type === 'TelemetryBatchRecorded');
      expect(partsAfterFailure).toHaveLength(5);

      const result = await recordTelemetryBatch(ctx, new TelemetrySessionRepository(store), input);
      expect(result.batch).toMatchObject({ pointCount: 100_000, pointsRecorded: 100_000 });
      const events = await stored();
      const parts = events.filter((event) => event.type === 'TelemetryBatchRecorded');
      expect(parts.reduce((sum, event) => sum + Number(event.data.pointCount), 0)).toBe(100_000);
      expect(parts.map((event) => event.data.firstPointIndex)).toEqual([...parts.map((event) => event.data.firstPointIndex)].sort((a, b) => Number(a) - Number(b)));
      const appends = standIn.appends.slice(appendsBefore).filter((append) => append.streamId === streamId);
      expect(appends.length).toBeGreaterThan(10);
      for (const append of appends) {
        expect(append.bytes).toBeLessThanOrEqual(1024 * 1024);
        expect(typeof append.expected).toBe('bigint'); // idempotency needs exact revisions
      }
      expect(await recordTelemetryBatch(ctx, new TelemetrySessionRepository(store), input)).toMatchObject({ replayed: true });
    }, 240_000);
  });

  describe('subscriptions', () => {
    it('resubscribes from the last delivered position when the server ends a subscription', async () => {
      const store = openStore({ resubscribeDelayMs: 10 });
      const streamId = uniqueStream('ended');
      const start = await store.append(streamId, [newEvent('Zero', { n: 0 })], { expectedRevision: 'no_stream' });
      const recorder = new DeliveryRecorder(new Set([streamId]));
      const subscription = store.subscribeToAll({ after: start.position, onEvent: recorder.onEvent, onError: recorder.onError });
      await store.append(streamId, [newEvent('One', { n: 1 }), newEvent('Two', { n: 2 })], { expectedRevision: 0n });
      await recorder.waitForCount(2);
      standIn.endSubscriptions();
      await waitFor('the subscription to be resumed', () => store.subscriptionsResumed >= 1);
      await store.append(streamId, [newEvent('Three', { n: 3 })], { expectedRevision: 2n });
      await recorder.waitForCount(3);
      await subscription.stop();
      expect(recorder.errors).toEqual([]);
      expect(recorder.delivered.map((event) => event.data.n)).toEqual([1, 2, 3]);
      await waitFor('the cancelled subscription to close', () => standIn.openCalls('subscription') === 0, 5000);
    });
  });

  describe('server checks', () => {
    it('readiness fails when the user may not read $all, though stream reads still work', async () => {
      const store = openStore();
      const streamId = uniqueStream('denied');
      await store.append(streamId, [newEvent('Readable')], { expectedRevision: 'no_stream' });
      standIn.denyAllReads = true;
      try {
        expect(await store.readStream(streamId)).toHaveLength(1);
        const error: unknown = await store.ping().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(EventStoreServerUnsuitableError);
        expect(String(error)).toMatch(/\$all/);
      } finally {
        standIn.denyAllReads = false;
      }
      await store.ping();
    });

    it('refuses a server older than 22.6 (sentinel positions on stream reads) at start-up', async () => {
      const store = openStore();
      standIn.oldServerSentinel = true;
      try {
        const error: unknown = await store.verifyServer().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(EventStoreServerUnsuitableError);
        expect(String(error)).toMatch(/22\.6/);
      } finally {
        standIn.oldServerSentinel = false;
      }
      await openStore().verifyServer();
    });
  });

  describe('relay checkpoints name their store', () => {
    let database: string;
    let db: Knex;

    beforeAll(async () => {
      database = await createTestDatabase('esdb_checkpoints');
      db = knexFactory({ client: 'pg', connection: database, pool: { min: 0, max: 4 } });
    });

    afterAll(async () => {
      await db?.destroy();
      if (database) await dropTestDatabase(database);
    });

    it('refuses a PostgreSQL checkpoint against EventStoreDB (and another store instance), saying to replay', async () => {
      const postgres = new PostgresEventStore(db, logger);
      await postgres.migrate();
      const checkpoints = new RelayCheckpoints(db);
      await checkpoints.migrate();
      const pgIdentity = await postgres.identity();
      expect(await postgres.identity()).toEqual(pgIdentity);
      await checkpoints.save('main', { commit: 900n, prepare: 17n }, pgIdentity);
      expect(await checkpoints.load('main', pgIdentity)).toEqual({ commit: 900n, prepare: 17n });

      const esdb = openStore();
      const esdbIdentity = await esdb.identity();
      expect(esdbIdentity.kind).toBe('esdb');
      expect(await openStore().identity()).toEqual(esdbIdentity); // one identity per server, whoever asks
      const refused: unknown = await checkpoints.load('main', esdbIdentity).catch((caught: unknown) => caught);
      expect(refused).toBeInstanceOf(CheckpointStoreMismatchError);
      expect(String(refused)).toMatch(/replay/i);

      // A checkpoint from before stores were named counts as PostgreSQL's.
      await db('relay_checkpoints').where({ name: 'main' }).update({ store: null });
      expect(await checkpoints.load('main', pgIdentity)).toEqual({ commit: 900n, prepare: 17n });
      await expect(checkpoints.load('main', esdbIdentity)).rejects.toBeInstanceOf(CheckpointStoreMismatchError);
      await expect(checkpoints.load('main', { kind: 'postgres', instanceId: randomUUID() })).resolves.toBeDefined();

      await checkpoints.save('main', { commit: 900n, prepare: 17n }, pgIdentity);
      await expect(checkpoints.load('main', { kind: 'postgres', instanceId: randomUUID() })).rejects.toBeInstanceOf(CheckpointStoreMismatchError);

      // The relay itself stops on a mismatch instead of publishing from a foreign position.
      const bus = new InProcessMessageBus(db, logger, { groupNamespace: 'mismatch.' });
      await bus.migrate();
      const relay = new EventRelay(esdb, bus, checkpoints, logger, { topicPrefix: 'mismatch.' });
      await expect(relay.relayPending()).rejects.toBeInstanceOf(CheckpointStoreMismatchError);
      await bus.close();
      await postgres.close();
    });
  });
});
