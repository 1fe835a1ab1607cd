/**
 * A seeded pseudo-random number generator as pure functions (mulberry32). The generator's whole
 * state is one uint32 that lives inside the caller's state, so a domain state that carries it stays
 * a plain, serialisable value and replaying the same inputs gives the same numbers.
 */

/** The generator's state: an unsigned 32-bit integer. */
export type RandomState = number;

export interface RandomDraw {
  /** Uniform in [0, 1). */
  readonly value: number;
  readonly next: RandomState;
}

/** Turns any integer seed (negative, larger than 32 bits) into a generator state. */
export function seedRandom(seed: number): RandomState {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  // Mix the seed once so that nearby seeds (1, 2, 3) do not start on correlated sequences.
  let mixed = Math.trunc(seed) >>> 0;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b) >>> 0;
  mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35) >>> 0;
  return (mixed ^ (mixed >>> 16)) >>> 0;
}

/** One mulberry32 step. */
export function nextRandom(state: RandomState): RandomDraw {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return { value, next };
}

/** Uniform in [min, max). */
export function nextRandomBetween(state: RandomState, min: number, max: number): RandomDraw {
  const draw = nextRandom(state);
  return { value: min + draw.value * (max - min), next: draw.next };
}
