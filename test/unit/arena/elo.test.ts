import { expectedScore, rateMatch } from '../../../src/domain/arena/elo';
import { ValidationError } from '../../../src/domain/shared/errors';

describe('elo', () => {
  it('expects an even score between equal ratings and 0.76 for a 200-point favourite', () => {
    expect(expectedScore(1500, 1500)).toBe(0.5);
    expect(expectedScore(1600, 1400)).toBeCloseTo(0.7597, 4);
    expect(expectedScore(1400, 1600)).toBeCloseTo(0.2403, 4);
  });

  it('moves equal ratings by K/2 on a win', () => {
    const rated = rateMatch({ ratingA: 1500, ratingB: 1500, outcome: 'a_wins' });
    expect(rated.a).toEqual({ before: 1500, after: 1516, change: 16 });
    expect(rated.b).toEqual({ before: 1500, after: 1484, change: -16 });
  });

  it('rewards an upset more than an expected win', () => {
    expect(rateMatch({ ratingA: 1600, ratingB: 1400, outcome: 'a_wins' }).a.change).toBe(8); // 32 * 0.2403 = 7.69
    expect(rateMatch({ ratingA: 1600, ratingB: 1400, outcome: 'b_wins' }).b.change).toBe(24); // 32 * 0.7597 = 24.31
  });

  it('handles draws: no change between equals, the favourite loses points', () => {
    const even = rateMatch({ ratingA: 1200, ratingB: 1200, outcome: 'draw' });
    expect([even.a.change, even.b.change]).toEqual([0, 0]);
    const uneven = rateMatch({ ratingA: 1600, ratingB: 1400, outcome: 'draw' });
    expect(uneven.a).toEqual({ before: 1600, after: 1592, change: -8 }); // 32 * -0.2597 = -8.31
    expect(uneven.b).toEqual({ before: 1400, after: 1408, change: 8 });
  });

  it('uses the configured K-factor', () => {
    expect(rateMatch({ ratingA: 1500, ratingB: 1500, outcome: 'a_wins', kFactor: 16 }).a.change).toBe(8);
    expect(rateMatch({ ratingA: 2000, ratingB: 1000, outcome: 'b_wins', kFactor: 40 }).b.change).toBe(40); // 40 * 0.9968 = 39.87
  });

  it('is zero-sum and symmetric under swapping the players for many pairs', () => {
    for (let a = 800; a <= 2400; a += 37) {
      for (const b of [900, 1200, 1213, 1500, 2100]) {
        for (const outcome of ['a_wins', 'b_wins', 'draw'] as const) {
          const rated = rateMatch({ ratingA: a, ratingB: b, outcome, kFactor: 24 });
          expect(rated.a.change + rated.b.change).toBe(0);
          expect(Number.isInteger(rated.a.after)).toBe(true);
          const mirroredOutcome = outcome === 'a_wins' ? 'b_wins' : outcome === 'b_wins' ? 'a_wins' : 'draw';
          const swapped = rateMatch({ ratingA: b, ratingB: a, outcome: mirroredOutcome, kFactor: 24 });
          expect(swapped.a.change).toBe(rated.b.change);
        }
      }
    }
  });

  it('rounds a half-point change away from zero for both players alike', () => {
    // K = 1 and equal ratings: the winner's exact change is +0.5.
    const rated = rateMatch({ ratingA: 1000, ratingB: 1000, outcome: 'a_wins', kFactor: 1 });
    expect([rated.a.change, rated.b.change]).toEqual([1, -1]);
  });

  it('refuses a non-positive K-factor and fractional ratings', () => {
    expect(() => rateMatch({ ratingA: 1500, ratingB: 1500, outcome: 'draw', kFactor: 0 })).toThrow(ValidationError);
    expect(() => rateMatch({ ratingA: 1500.5, ratingB: 1500, outcome: 'draw' })).toThrow(ValidationError);
  });
});
