import { createSeededRandom } from '../../../src/domain/training/seeded-random';
import { allocateBatch, ReplayBuffer } from '../../../src/ml/replay-buffer';

const add = (buffer: ReplayBuffer, id: number, terminal = false): void =>
  buffer.add(Float64Array.of(id, -id), Float64Array.of(id / 10), id, Float64Array.of(id + 1, -id - 1), terminal);

describe('ReplayBuffer', () => {
  it('wraps around: once full, the oldest transitions are overwritten', () => {
    const buffer = new ReplayBuffer(3, 2, 1);
    for (let id = 1; id <= 5; id++) add(buffer, id, id === 4);
    expect(buffer.size).toBe(3);
    const batch = allocateBatch(3, 2, 1);
    for (let slot = 0; slot < 3; slot++) buffer.copyInto(batch, slot, slot);
    // Slots 0 and 1 now hold transitions 4 and 5; slot 2 still holds 3.
    expect(Array.from(batch.rewards)).toEqual([4, 5, 3]);
    expect(Array.from(batch.observations)).toEqual([4, -4, 5, -5, 3, -3]);
    expect(Array.from(batch.nextObservations)).toEqual([5, -5, 6, -6, 4, -4]);
    expect(Array.from(batch.actions).map((value) => Math.round(value * 10))).toEqual([4, 5, 3]);
    expect(Array.from(batch.terminals)).toEqual([1, 0, 0]);
  });

  it('samples only stored transitions, reproducibly from the seed', () => {
    const buffer = new ReplayBuffer(100, 2, 1);
    for (let id = 1; id <= 7; id++) add(buffer, id);
    const first = allocateBatch(50, 2, 1);
    const second = allocateBatch(50, 2, 1);
    buffer.sampleInto(first, createSeededRandom(3));
    buffer.sampleInto(second, createSeededRandom(3));
    expect(Array.from(first.rewards)).toEqual(Array.from(second.rewards));
    expect(new Set(first.rewards).size).toBeGreaterThan(3);
    for (const reward of first.rewards) expect(reward).toBeGreaterThanOrEqual(1);
    for (const reward of first.rewards) expect(reward).toBeLessThanOrEqual(7);
  });

  it('refuses to sample when empty', () => {
    expect(() => new ReplayBuffer(4, 2, 1).sampleInto(allocateBatch(1, 2, 1), createSeededRandom(1))).toThrow(/empty/);
  });
});
