import { dominanceScore } from '../../../src/domain/racing/dominance';

/** Cliff's delta by brute force over every pair, as the definition reads. */
function bruteForce(a: number[], b: number[]): number {
  let sum = 0;
  for (const x of a) for (const y of b) sum += x < y ? 1 : x > y ? -1 : 0;
  return Math.round((sum / (a.length * b.length)) * 1000) / 10;
}

describe('dominance score (Cliff’s delta × 100)', () => {
  it('is +100 when every primary lap beats every secondary lap, −100 the reverse, 0 for the same laps', () => {
    expect(dominanceScore([90, 91], [92, 93, 94])).toBe(100);
    expect(dominanceScore([92, 93, 94], [90, 91])).toBe(-100);
    expect(dominanceScore([90, 91, 92], [90, 91, 92])).toBe(0);
    expect(dominanceScore([], [90])).toBeNull();
  });

  it('matches the pairwise definition, ties included', () => {
    let seed = 3;
    const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let round = 0; round < 50; round += 1) {
      const a = Array.from({ length: 1 + Math.floor(next() * 12) }, () => 90_000 + Math.round(next() * 20) * 100);
      const b = Array.from({ length: 1 + Math.floor(next() * 12) }, () => 90_500 + Math.round(next() * 20) * 100);
      expect(dominanceScore(a, b)).toBe(bruteForce(a, b));
    }
  });
});
