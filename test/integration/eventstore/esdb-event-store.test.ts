import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, binaryEvent, jsonEvent } from '@eventstore/db-client';
import knexFactory from 'knex';
import { createSession, recordTelemetryBatch } from '../../../src/commands/racing/telemetry-session-commands';
import { TelemetrySessionRepository } from '../../../src/commands/racing/telemetry-session-repository';
import { InProcessMessageBus } from '../../../src/infrastructure/bus/in-process-bus';
import { AppendTooLargeError, WrongExpectedRevisionError } from '../../../src/infrastructure/eventstore/errors';
import { EventStoreDbEventStore } from '../../../src/infrastructure/eventstore/esdb-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { EventRelay } from '../../../src/infrastructure/relay/event-relay';
import { RelayCheckpoints } from '../../../src/infrastructure/relay/relay-checkpoints';
import { describeWithEngine } from '../../support/engines';
import { createTestDatabase, dropTestDatabase } from '../../support/postgres';
import { eventStoreContract } from './event-store.contract';
import { newEvent, uniqueStream } from './event-store-test-helpers';

/**
 * Runs the EventStore contract, and the cases the stand-in suite (esdb-stand-in.test.ts) checks,
 * against a real EventStoreDB/KurrentDB when ESDB_URL is set (e.g. esdb://admin:changeit@127.0.0.1:2113?tls=false;
 * docs/event-store.md says which server and settings). The server keeps data between runs: tests
 * use fresh streams and only look at their own events. Not run here: a subscription the server
 * ends and a user denied $all (both need control over the server; the stand-in covers them).
 */
const esdbUrl = process.env.ESDB_URL ?? '';
const logger = createLogger({ level: 'silent' });
const withOption = (url: string, option: string) => `${url}${url.includes('?') ? '&' : '?'}${option}`;

describeWithEngine('esdb', esdbUrl !== '', 'ESDB_URL not set (no EventStoreDB server; esdb-stand-in.test.ts covers the adapter against the stand-in)')(
  'EventStoreDbEventStore on a real server',
  () => {
    const stores: EventStoreDbEventStore[] = [];
    const openStore = (options: ConstructorParameters<typeof EventStoreDbEventStore>[2] = {}, url = esdbUrl) => {
      const store = new EventStoreDbEventStore(url, logger, options);
      stores.push(store);
      return store;
    };
    afterAll(async () => {
      await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
    });

    eventStoreContract('EventStoreDB', async () => {
      const store = new EventStoreDbEventStore(esdbUrl, logger);
      await store.verifyServer();
      return store;
    });

    it('passes the start-up check (version 22.6 or later, $all readable)', async () => {
      await openStore().verifyServer();
    });

    it('reads past pages of system-type events and skips foreign events', async () => {
      const store = openStore({ readPageSize: 10 });
      const client = EventStoreDBClient.connectionString(esdbUrl);
      try {
        const streamId = uniqueStream('paged');
        const first = await store.append(streamId, [newEvent('Before')], { expectedRevision: 'no_stream' });
        const foreign = uniqueStream('foreign');
        await client.appendToStream(foreign, Array.from({ length: 35 }, () => jsonEvent({ type: '$system-like', data: {} })));
        await client.appendToStream(foreign, [
          binaryEvent({ type: 'Blob', data: Buffer.from([0, 1, 255]) }),
          jsonEvent({ type: 'List', data: [1, 2, 3] as unknown as Record<string, never> }),
          jsonEvent({ type: 'ArrayMeta', data: {}, metadata: ['a'] as unknown as Record<string, never> }),
        ]);
        await store.append(streamId, [newEvent('After')], { expectedRevision: 0n });
        const read = (await store.readAll({ after: first.position, maxCount: 1_000 })).filter((event) => event.streamId === streamId || event.streamId === foreign);
        expect(read.map((event) => event.type)).toEqual(['After']);
        expect(store.foreignEventsSkipped).toBeGreaterThanOrEqual(3);
      } finally {
        await client.dispose();
      }
    });

    it('maps the 1 MiB append limit to AppendTooLargeError', async () => {
      const store = openStore();
      await expect(
        store.append(uniqueStream('big'), [newEvent('Huge', { blob: 'y'.repeat(1_100_000) })], { expectedRevision: 'no_stream' }),
      ).rejects.toBeInstanceOf(AppendTooLargeError);
    });

    it('a conflict is an error also with throwOnAppendFailure=false', async () => {
      const store = openStore({}, withOption(esdbUrl, 'throwOnAppendFailure=false'));
      const streamId = uniqueStream('quiet');
      await store.append(streamId, [newEvent('First')], { expectedRevision: 'no_stream' });
      await expect(store.append(streamId, [newEvent('Second')], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    });

    it('a relay catch-up over more than 100 pages finishes and leaves the connection usable', async () => {
      const database = await createTestDatabase('esdb_real_relay');
      const db = knexFactory({ client: 'pg', connection: database, pool: { min: 0, max: 4 } });
      try {
        const store = openStore({ readPageSize: 20 });
        const checkpoints = new RelayCheckpoints(db);
        await checkpoints.migrate();
        // Start the relay at the current end of $all: only this test's events are then ahead of it.
        const marker = await store.append(uniqueStream('marker'), [newEvent('Marker')], { expectedRevision: 'no_stream' });
        await checkpoints.save('real', marker.position, await store.identity());
        const padding = 'x'.repeat(2000);
        for (let s = 0; s < 21; s += 1) {
          await store.append(uniqueStream('relayed'), Array.from({ length: 100 }, (_, n) => newEvent('Relayed', { n, padding })), { expectedRevision: 'no_stream' });
        }
        const bus = new InProcessMessageBus(db, logger, { groupNamespace: 'esdb-real.' });
        await bus.migrate();
        const relay = new EventRelay(store, bus, checkpoints, logger, { name: 'real', topicPrefix: 'esdb-real.', batchSize: 20 });
        expect(await relay.relayPending()).toBeGreaterThanOrEqual(2100);
        await store.ping();
        await store.append(uniqueStream('after'), [newEvent('StillWorks')], { expectedRevision: 'no_stream' });
        await bus.close();
      } finally {
        await db.destroy();
        await dropTestDatabase(database);
      }
    }, 300_000);

    it('records a 100,000-point telemetry upload in parts under the append limit', async () => {
      const store = openStore();
      const sessions = new TelemetrySessionRepository(store);
      const ctx = { store, now: () => new Date(), newId: randomUUID, metadata: {} };
      const created = await createSession(ctx, sessions, 'driver-1', {
        sessionName: 'Stint', trackName: 'Monza', carModel: 'GT3', weatherConditions: null, trackTemperatureC: null, airTemperatureC: null, trackLengthM: null,
      });
      const T0 = Date.UTC(2024, 0, 15);
      const points = Array.from({ length: 100_000 }, (_, i) => ({
        timestamp: new Date(T0 + i * 10).toISOString(), speed_kmh: 150 + (i % 97) / 3, throttle_input: (i % 11) / 13, brake_input: 0,
        steering_input: ((i % 21) - 10) / 11, gear: 1 + (i % 6), rpm: 4000 + (i % 4000) / 7,
      }));
      const result = await recordTelemetryBatch(ctx, sessions, {
        sessionId: created.sessionId, userId: 'driver-1', batchId: 'huge', dataPoints: points, maxPoints: 100_000, maxPartBytes: 512 * 1024,
      });
      expect(result.batch).toMatchObject({ pointCount: 100_000, pointsRecorded: 100_000 });
      const parts = (await store.readStream(`session-${created.sessionId}`)).filter((event) => event.type === 'TelemetryBatchRecorded');
      expect(parts.reduce((sum, event) => sum + Number(event.data.pointCount), 0)).toBe(100_000);
    }, 300_000);
  },
);
