/**
 * Elo ratings for a two-player match. Ratings are integers; the change is computed once for the
 * first player and negated for the second so every rating change is exactly zero-sum.
 */
import { ValidationError } from '../shared/errors';

export const DEFAULT_K_FACTOR = 32;
export const INITIAL_RATING = 1200;

/** The match from player A's point of view. */
export type EloOutcome = 'a_wins' | 'b_wins' | 'draw';

export interface RatingChange {
  readonly before: number;
  readonly after: number;
  readonly change: number;
}

export interface RatedMatch {
  readonly a: RatingChange;
  readonly b: RatingChange;
  /** A's expected score before the match, in [0, 1]. */
  readonly expectedScoreA: number;
  readonly kFactor: number;
}

/** The probability-like score A is expected to get against B (1 = win, 0.5 = draw). */
export function expectedScore(ratingA: number, ratingB: number): number {
  return 1 / (1 + 10 ** ((ratingB - ratingA) / 400));
}

const ACTUAL_SCORE_A: Record<EloOutcome, number> = { a_wins: 1, b_wins: 0, draw: 0.5 };

/** Rounds half away from zero, so swapping A and B gives exactly the mirrored changes. */
function roundSymmetric(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}

export function rateMatch(input: {
  ratingA: number;
  ratingB: number;
  outcome: EloOutcome;
  kFactor?: number;
}): RatedMatch {
  const kFactor = input.kFactor ?? DEFAULT_K_FACTOR;
  if (!Number.isFinite(kFactor) || kFactor <= 0) {
    throw new ValidationError('K-factor must be a positive number', { kFactor });
  }
  for (const [name, rating] of [['ratingA', input.ratingA], ['ratingB', input.ratingB]] as const) {
    if (!Number.isInteger(rating)) throw new ValidationError(`${name} must be an integer`, { [name]: rating });
  }
  const expectedScoreA = expectedScore(input.ratingA, input.ratingB);
  // `+ 0` turns the -0 that Math.sign can produce into 0.
  const changeA = roundSymmetric(kFactor * (ACTUAL_SCORE_A[input.outcome] - expectedScoreA)) + 0;
  const changeB = -changeA + 0;
  return {
    a: { before: input.ratingA, after: input.ratingA + changeA, change: changeA },
    b: { before: input.ratingB, after: input.ratingB + changeB, change: changeB },
    expectedScoreA,
    kFactor,
  };
}
