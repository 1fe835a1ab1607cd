import { randomUUID } from 'node:crypto';
import type { SnapshotStore, StoredSnapshot } from '../../../src/infrastructure/snapshots/snapshot-store';

const snapshotOf = (streamId: string, revision: bigint, overrides: Partial<StoredSnapshot> = {}): StoredSnapshot => ({
  streamId,
  revision,
  eventId: randomUUID(),
  schema: 'Ladder',
  version: 1,
  state: { ratings: { $map: [['a', 1216.5]] }, nested: [1, 'two', null, { deep: true }] },
  ...overrides,
});

/** What every SnapshotStore adapter must do (see src/infrastructure/snapshots/snapshot-store.ts). */
export function snapshotStoreContract(name: string, open: () => Promise<SnapshotStore>): void {
  describe(`SnapshotStore contract: ${name}`, () => {
    let store: SnapshotStore;
    beforeAll(async () => {
      store = await open();
    });
    const stream = () => `ladder-${randomUUID()}`;

    it('has no snapshot of a stream never saved', async () => {
      expect(await store.load(stream())).toBeNull();
    });

    it('gives back exactly what was saved, revision as a bigint', async () => {
      const saved = snapshotOf(stream(), 9_007_199_254_740_993n);
      await store.save(saved);
      expect(await store.load(saved.streamId)).toEqual(saved);
    });

    it('keeps the later revision: an older snapshot saved late does not replace it', async () => {
      const streamId = stream();
      const newer = snapshotOf(streamId, 200n);
      await store.save(newer);
      await store.save(snapshotOf(streamId, 100n));
      expect(await store.load(streamId)).toEqual(newer);
      const newest = snapshotOf(streamId, 300n);
      await store.save(newest);
      expect(await store.load(streamId)).toEqual(newest);
    });

    it('replaces a snapshot of another version, whatever its revision (a new state shape starts over)', async () => {
      const streamId = stream();
      await store.save(snapshotOf(streamId, 500n, { version: 1 }));
      const bumped = snapshotOf(streamId, 100n, { version: 2 });
      await store.save(bumped);
      expect(await store.load(streamId)).toEqual(bumped);
    });

    it('concurrent saves of one stream leave the highest revision', async () => {
      const streamId = stream();
      const revisions = Array.from({ length: 12 }, (_, i) => BigInt(i * 10));
      await Promise.all(revisions.map((revision) => store.save(snapshotOf(streamId, revision))));
      expect((await store.load(streamId))?.revision).toBe(110n);
    });

    it('keeps streams apart', async () => {
      const [a, b] = [snapshotOf(stream(), 1n), snapshotOf(stream(), 2n)];
      await Promise.all([store.save(a), store.save(b)]);
      expect(await store.load(a.streamId)).toEqual(a);
      expect(await store.load(b.streamId)).toEqual(b);
    });

    it('deleteAll removes every snapshot and says how many', async () => {
      const saved = [snapshotOf(stream(), 1n), snapshotOf(stream(), 2n)];
      for (const snapshot of saved) await store.save(snapshot);
      expect(await store.deleteAll()).toBeGreaterThanOrEqual(2);
      for (const snapshot of saved) expect(await store.load(snapshot.streamId)).toBeNull();
      expect(await store.deleteAll()).toBe(0);
    });
  });
}
