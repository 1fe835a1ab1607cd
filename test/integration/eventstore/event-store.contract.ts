import { randomUUID } from 'node:crypto';
import { WrongExpectedRevisionError } from '../../../src/infrastructure/eventstore/errors';
import { decodeRecordedEvent, toNewEvent } from '../../../src/infrastructure/eventstore/event-decoding';
import type { EventStore, ExpectedRevision } from '../../../src/infrastructure/eventstore/event-store';
import { subscriptionContract } from './event-store-subscription.contract';
import { assertStrictlyIncreasing, newEvent, readAllOf, uniqueStream } from './event-store-test-helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function expectConflict(attempt: Promise<unknown>, streamId: string, actual: bigint | 'no_stream'): Promise<void> {
  const error: unknown = await attempt.then(
    () => new Error('append succeeded but a WrongExpectedRevisionError was expected'),
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  expect(error).toMatchObject({ streamId, actual });
}

/**
 * The behaviour every EventStore adapter must have. `factory` is called once (beforeAll) and the
 * store is closed in afterAll. Tests use fresh streams and only look at their own events, so the
 * suite also runs against an EventStoreDB that keeps data between runs (assuming no other writer
 * appends while it runs).
 */
export function eventStoreContract(name: string, factory: () => Promise<EventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;

    beforeAll(async () => {
      store = await factory();
    });

    afterAll(async () => {
      await store?.close();
    });

    describe('append and readStream', () => {
      it('orders revisions and positions numerically, past one digit', async () => {
        // Positions and revisions travel as decimal text; sorting that text would put 10 before 2.
        const streamId = uniqueStream('numeric');
        for (let n = 0; n < 12; n++) {
          await store.append(streamId, [newEvent('Counted', { n })], { expectedRevision: n === 0 ? 'no_stream' : BigInt(n - 1) });
        }
        const forward = await store.readStream(streamId);
        expect(forward.map((event) => event.data.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        const backward = await store.readStream(streamId, { direction: 'backward' });
        expect(backward.map((event) => event.data.n)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        // readAll may hold back a write just answered while an older transaction runs anywhere on
        // the server (the PostgreSQL store's position-gap rule; suites share the test server).
        await readAllOf(store, undefined, new Set([streamId]), 12);
        const everything = await store.readAll();
        assertStrictlyIncreasing(everything.map((event) => event.position));
        const ours = everything.filter((event) => event.streamId === streamId);
        expect(ours.map((event) => event.data.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      });

      it('reads a stream forward, backward, from a revision and limited', async () => {
        const streamId = uniqueStream('contract');
        const result = await store.append(streamId, [0, 1, 2, 3].map((n) => newEvent(`Happened${n}`, { n })), {
          expectedRevision: 'no_stream',
        });
        expect(result.nextExpectedRevision).toBe(3n);

        const forward = await store.readStream(streamId);
        expect(forward.map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n]);
        expect(forward.map((event) => event.type)).toEqual(['Happened0', 'Happened1', 'Happened2', 'Happened3']);
        expect(forward.map((event) => event.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
        expect(forward.every((event) => event.streamId === streamId)).toBe(true);
        expect(forward[3].position).toEqual(result.position);

        const revisions = async (options: Parameters<EventStore['readStream']>[1]): Promise<bigint[]> =>
          (await store.readStream(streamId, options)).map((event) => event.revision);
        expect(await revisions({ direction: 'backward' })).toEqual([3n, 2n, 1n, 0n]);
        expect(await revisions({ fromRevision: 2n })).toEqual([2n, 3n]);
        expect(await revisions({ direction: 'backward', fromRevision: 1n })).toEqual([1n, 0n]);
        expect(await revisions({ maxCount: 2 })).toEqual([0n, 1n]);
        expect(await revisions({ direction: 'backward', maxCount: 1 })).toEqual([3n]);
        expect(await revisions({ fromRevision: 1n, maxCount: 2 })).toEqual([1n, 2n]);
        expect(await revisions({ fromRevision: 10n })).toEqual([]);
      });

      it('returns [] for a stream that does not exist', async () => {
        expect(await store.readStream(uniqueStream('missing'))).toEqual([]);
        expect(await store.readStream(uniqueStream('missing'), { direction: 'backward' })).toEqual([]);
      });

      it('appends to the end across calls, continuing revisions', async () => {
        const streamId = uniqueStream('contract');
        const first = await store.append(streamId, [newEvent('A')], { expectedRevision: 'no_stream' });
        const second = await store.append(streamId, [newEvent('B'), newEvent('C')], { expectedRevision: first.nextExpectedRevision });
        expect(first.nextExpectedRevision).toBe(0n);
        expect(second.nextExpectedRevision).toBe(2n);
        expect((await store.readStream(streamId)).map((event) => event.type)).toEqual(['A', 'B', 'C']);
      });

      it('reads back the schema version written on append; an event without one decodes as version 1', async () => {
        const streamId = uniqueStream('session');
        const context = { sessionId: 's1', ownerId: 'u1', trackName: 'Monza', carModel: 'GT3' };
        const lap = {
          ...context,
          lapNumber: 2,
          lapTimeMs: 91_000,
          sectorTimesMs: [30_000, 31_000, 30_000],
          valid: true,
          invalidReasons: [],
          invalidDetails: [],
          isVerified: true,
          startedAtMs: 0,
          endedAtMs: 91_000,
          sampleCount: 100,
          maxSpeedKmh: 300,
          meanSpeedKmh: 200,
          distanceM: 5800,
          fullThrottleFraction: 0.6,
          brakingFraction: 0.2,
          coastingFraction: 0.2,
        };
        // Version 1 as written before versions existed (no `estimated`, no version), then the current version.
        await store.append(streamId, [newEvent('LapCompleted', lap, { metadata: { correlationId: 'c' } })], { expectedRevision: 'no_stream' });
        await store.append(streamId, [toNewEvent({ type: 'LapCompleted', data: { ...lap, lapNumber: 3, estimated: true } }, { correlationId: 'c' })], {
          expectedRevision: 0n,
        });
        const stored = await store.readStream(streamId);
        expect(stored.map((event) => event.metadata)).toEqual([{ correlationId: 'c' }, { correlationId: 'c', schemaVersion: 2 }]);
        const fromAll = await readAllOf(store, undefined, new Set([streamId]), 2);
        expect(fromAll.map((event) => event.metadata.schemaVersion)).toEqual([undefined, 2]);
        const decoded = stored.map(decodeRecordedEvent);
        expect(decoded.map((event) => (event.type === 'LapCompleted' ? [event.data.lapNumber, event.data.estimated] : null))).toEqual([
          [2, false],
          [3, true],
        ]);
      });

      it('round-trips ids, metadata and creation time; generates UUIDs when ids are absent', async () => {
        const streamId = uniqueStream('contract');
        const givenId = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
        const metadata = { correlationId: 'corr-1', causationId: 'cause-1', userId: 'user-1', extra: { nested: [1, 'two', null] } };
        const before = Date.now();
        await store.append(
          streamId,
          [newEvent('WithId', { deep: { list: [1, 2.5, true, null, 'x'] } }, { id: givenId, metadata }), newEvent('WithoutId')],
          { expectedRevision: 'any' },
        );
        const [withId, withoutId] = await store.readStream(streamId);
        expect(withId.id).toBe(givenId);
        expect(withId.metadata).toEqual(metadata);
        expect(withId.data).toEqual({ deep: { list: [1, 2.5, true, null, 'x'] } });
        expect(withoutId.id).toMatch(UUID);
        expect(withoutId.id).not.toBe(givenId);
        expect(withoutId.metadata).toEqual({});
        expect(withId.createdAt).toBeInstanceOf(Date);
        // Generous bounds: the database clock may differ slightly from this process's clock.
        expect(Math.abs(withId.createdAt.getTime() - before)).toBeLessThan(60_000);
      });
    });

    describe('expected revision', () => {
      it("'no_stream' succeeds on a new stream and fails on an existing one", async () => {
        const streamId = uniqueStream('expect');
        await store.append(streamId, [newEvent('A')], { expectedRevision: 'no_stream' });
        await expectConflict(store.append(streamId, [newEvent('B')], { expectedRevision: 'no_stream' }), streamId, 0n);
      });

      it("'stream_exists' fails on a missing stream and succeeds on an existing one", async () => {
        const streamId = uniqueStream('expect');
        await expectConflict(store.append(streamId, [newEvent('A')], { expectedRevision: 'stream_exists' }), streamId, 'no_stream');
        expect(await store.readStream(streamId)).toEqual([]);
        await store.append(streamId, [newEvent('A')], { expectedRevision: 'no_stream' });
        const result = await store.append(streamId, [newEvent('B')], { expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(1n);
      });

      it('an exact revision succeeds when current and fails when stale, ahead or on a missing stream', async () => {
        const streamId = uniqueStream('expect');
        await expectConflict(store.append(streamId, [newEvent('A')], { expectedRevision: 0n }), streamId, 'no_stream');
        await store.append(streamId, [newEvent('A'), newEvent('B')], { expectedRevision: 'no_stream' });
        await expectConflict(store.append(streamId, [newEvent('C')], { expectedRevision: 0n }), streamId, 1n);
        await expectConflict(store.append(streamId, [newEvent('C')], { expectedRevision: 5n }), streamId, 1n);
        const result = await store.append(streamId, [newEvent('C')], { expectedRevision: 1n });
        expect(result.nextExpectedRevision).toBe(2n);
        expect((await store.readStream(streamId)).map((event) => event.type)).toEqual(['A', 'B', 'C']);
      });

      it("'any' succeeds on a missing and on an existing stream", async () => {
        const streamId = uniqueStream('expect');
        expect((await store.append(streamId, [newEvent('A')], { expectedRevision: 'any' })).nextExpectedRevision).toBe(0n);
        expect((await store.append(streamId, [newEvent('B')], { expectedRevision: 'any' })).nextExpectedRevision).toBe(1n);
      });

      it.each<[string, ExpectedRevision, boolean]>([
        ['revision 0', 0n, true],
        ["'no_stream'", 'no_stream', false],
      ])('20 concurrent appends expecting %s: exactly one wins, 19 get WrongExpectedRevisionError', async (_label, expectedRevision, seedFirst) => {
        const streamId = uniqueStream('race');
        if (seedFirst) await store.append(streamId, [newEvent('Seed')], { expectedRevision: 'no_stream' });
        const attempts = await Promise.allSettled(
          Array.from({ length: 20 }, (_, n) => store.append(streamId, [newEvent('Attempt', { n })], { expectedRevision })),
        );
        const winners = attempts.filter((attempt) => attempt.status === 'fulfilled');
        const losers = attempts.flatMap((attempt) => (attempt.status === 'rejected' ? [attempt.reason] : []));
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(19);
        for (const loser of losers) expect(loser).toBeInstanceOf(WrongExpectedRevisionError);
        const stored = await store.readStream(streamId);
        expect(stored.filter((event) => event.type === 'Attempt')).toHaveLength(1);
        expect(stored.map((event) => event.revision)).toEqual(seedFirst ? [0n, 1n] : [0n]);
      });
    });

    describe('idempotent retries', () => {
      it('appending the same event ids again returns the original result and stores nothing new', async () => {
        const streamId = uniqueStream('retry');
        const batch = [newEvent('A', { n: 1 }, { id: randomUUID() }), newEvent('B', { n: 2 }, { id: randomUUID() })];
        const original = await store.append(streamId, batch, { expectedRevision: 'no_stream' });
        // A retry after a lost response repeats the request exactly, expected revision included.
        const retried = await store.append(streamId, batch, { expectedRevision: 'no_stream' });
        expect(retried.nextExpectedRevision).toBe(original.nextExpectedRevision);
        const retriedWithAny = await store.append(streamId, batch, { expectedRevision: 'any' });
        expect(retriedWithAny.nextExpectedRevision).toBe(original.nextExpectedRevision);
        const stored = await store.readStream(streamId);
        expect(stored.map((event) => event.id)).toEqual(batch.map((event) => event.id));

        const next = await store.append(streamId, [newEvent('C')], { expectedRevision: original.nextExpectedRevision });
        expect(next.nextExpectedRevision).toBe(2n);
      });
    });

    describe('readAll', () => {
      it('returns events in global order, strictly after `after`, limited by maxCount', async () => {
        const [a, b, c] = [uniqueStream('all'), uniqueStream('all'), uniqueStream('all')];
        const marker = await store.append(a, [newEvent('A0')], { expectedRevision: 'no_stream' });
        await store.append(b, [newEvent('B0')], { expectedRevision: 'no_stream' });
        await store.append(a, [newEvent('A1'), newEvent('A2')], { expectedRevision: 0n });
        await store.append(c, [newEvent('C0')], { expectedRevision: 'no_stream' });

        const ours = new Set([a, b, c]);
        const after = await readAllOf(store, marker.position, ours, 4);
        expect(after.map((event) => event.type)).toEqual(['B0', 'A1', 'A2', 'C0']);
        assertStrictlyIncreasing([marker.position, ...after.map((event) => event.position)]);

        const limited = await store.readAll({ after: marker.position, maxCount: 2 });
        expect(limited.map((event) => event.type)).toEqual(['B0', 'A1']);
        const nextPage = await store.readAll({ after: limited[1].position, maxCount: 2 });
        expect(nextPage.map((event) => event.type)).toEqual(['A2', 'C0']);
      });
    });

    subscriptionContract(() => store);
  });
}
