import type { EventStore, RecordedEvent } from '../../../src/infrastructure/eventstore/event-store';
import {
  DeliveryRecorder,
  assertStrictlyIncreasing,
  deferred,
  delay,
  newEvent,
  readAllOf,
  uniqueStream,
  waitFor,
} from './event-store-test-helpers';

/** subscribeToAll behaviour; part of eventStoreContract, which owns the store. */
export function subscriptionContract(getStore: () => EventStore): void {
  describe('subscribeToAll', () => {
    it('catches up on existing events, then follows live appends in order without duplicates, until stopped', async () => {
      const store = getStore();
      const [a, b] = [uniqueStream('sub'), uniqueStream('sub')];
      const marker = await store.append(a, [newEvent('Marker')], { expectedRevision: 'no_stream' });
      await store.append(a, [newEvent('Old1'), newEvent('Old2')], { expectedRevision: 0n });
      await store.append(b, [newEvent('Old3')], { expectedRevision: 'no_stream' });

      const recorder = new DeliveryRecorder(new Set([a, b]));
      const subscription = store.subscribeToAll({ after: marker.position, onEvent: recorder.onEvent, onError: recorder.onError });
      try {
        await recorder.waitForCount(3);
        await store.append(b, [newEvent('Live1')], { expectedRevision: 0n });
        await store.append(a, [newEvent('Live2'), newEvent('Live3')], { expectedRevision: 2n });
        await recorder.waitForCount(6);
      } finally {
        await subscription.stop();
      }
      expect(recorder.delivered.map((event) => event.type)).toEqual(['Old1', 'Old2', 'Old3', 'Live1', 'Live2', 'Live3']);
      assertStrictlyIncreasing(recorder.delivered.map((event) => event.position));
      expect(recorder.errors).toEqual([]);

      await store.append(a, [newEvent('AfterStop')], { expectedRevision: 4n });
      await delay(1000);
      expect(recorder.delivered).toHaveLength(6);
    });

    it('delivers one event at a time and stop() resolves only after the running onEvent', async () => {
      const store = getStore();
      const streamId = uniqueStream('sub');
      const marker = await store.append(streamId, [newEvent('Marker')], { expectedRevision: 'no_stream' });
      await store.append(streamId, [newEvent('First'), newEvent('Second')], { expectedRevision: 0n });

      const release = deferred();
      const started: RecordedEvent[] = [];
      let running = 0;
      let maxRunning = 0;
      let finished = 0;
      const subscription = store.subscribeToAll({
        after: marker.position,
        onEvent: async (event) => {
          if (event.streamId !== streamId) return;
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          started.push(event);
          await release.promise;
          running -= 1;
          finished += 1;
        },
      });
      await waitFor('the first onEvent to start', () => started.length === 1);
      let stopped = false;
      const stopping = subscription.stop().then(() => {
        stopped = true;
      });
      await delay(200);
      expect(stopped).toBe(false);
      release.resolve();
      await stopping;
      expect(finished).toBe(1);
      await delay(300);
      expect(started.map((event) => event.type)).toEqual(['First']);
      expect(maxRunning).toBe(1);
    });

    it('stops and reports to onError when onEvent throws', async () => {
      const store = getStore();
      const streamId = uniqueStream('sub');
      const marker = await store.append(streamId, [newEvent('Marker')], { expectedRevision: 'no_stream' });
      await store.append(streamId, [newEvent('Poison'), newEvent('Next')], { expectedRevision: 0n });

      const seen: string[] = [];
      const errors: Error[] = [];
      const subscription = store.subscribeToAll({
        after: marker.position,
        onEvent: async (event) => {
          if (event.streamId !== streamId) return;
          seen.push(event.type);
          if (event.type === 'Poison') throw new Error('handler failed on Poison');
        },
        onError: (error) => errors.push(error),
      });
      try {
        await waitFor('onError', () => errors.length === 1);
        await delay(300);
      } finally {
        await subscription.stop();
      }
      expect(errors[0].message).toContain('handler failed on Poison');
      expect(seen).toEqual(['Poison']);
    });

    it('delivers every event of many concurrent appends across streams exactly once, in global order', async () => {
      const store = getStore();
      const streams = Array.from({ length: 10 }, () => uniqueStream('fanin'));
      const marker = await store.append(uniqueStream('fanin-marker'), [newEvent('Marker')], { expectedRevision: 'no_stream' });
      const recorder = new DeliveryRecorder(new Set(streams));
      const subscription = store.subscribeToAll({ after: marker.position, onEvent: recorder.onEvent, onError: recorder.onError });
      const appendsPerStream = 6;
      try {
        await Promise.all(
          streams.map(async (streamId) => {
            for (let n = 0; n < appendsPerStream; n += 1) {
              const expectedRevision = n === 0 ? 'no_stream' : BigInt(n - 1);
              await store.append(streamId, [newEvent('Counted', { n })], { expectedRevision });
            }
          }),
        );
        const total = streams.length * appendsPerStream;
        await recorder.waitForCount(total, 20_000);
        await delay(500);
        expect(recorder.delivered).toHaveLength(total);
        expect(new Set(recorder.ids()).size).toBe(total);
        assertStrictlyIncreasing(recorder.delivered.map((event) => event.position));
        for (const streamId of streams) {
          const revisions = recorder.delivered.filter((event) => event.streamId === streamId).map((event) => event.revision);
          expect(revisions).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
        }
        // The subscription saw exactly what a reader of $all sees.
        const read = await readAllOf(store, marker.position, new Set(streams), total);
        expect(recorder.ids()).toEqual(read.map((event) => event.id));
      } finally {
        await subscription.stop();
      }
      expect(recorder.errors).toEqual([]);
    });
  });
}
