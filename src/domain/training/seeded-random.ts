/**
 * The randomness training code draws on: a stateful view of the shared seeded generator
 * (src/domain/shared/random.ts). Learners draw thousands of numbers per update, so they hold one
 * of these instead of threading the generator state by hand; it is never Math.random, so a run
 * is reproducible from its seed.
 */
import { nextRandom, seedRandom } from '../shared/random';

export interface RandomSource {
  /** Uniform in [0, 1). */
  nextFloat(): number;
}

export function createSeededRandom(seed: number): RandomSource {
  let state = seedRandom(seed);
  return {
    nextFloat(): number {
      const draw = nextRandom(state);
      state = draw.next;
      return draw.value;
    },
  };
}

export const uniformBetween = (random: RandomSource, low: number, high: number): number =>
  low + (high - low) * random.nextFloat();

export const randomInteger = (random: RandomSource, exclusiveMax: number): number =>
  Math.floor(random.nextFloat() * exclusiveMax);

/** Standard normal by Box-Muller; the second value of each pair is dropped to keep no state. */
export function standardNormal(random: RandomSource): number {
  const u1 = 1 - random.nextFloat(); // (0, 1], so the log is finite
  const u2 = random.nextFloat();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A seed for sub-stream `stream` (an episode, the evaluation run) of a run seeded with `seed`. */
export const deriveSeed = (seed: number, stream: number): number =>
  (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
