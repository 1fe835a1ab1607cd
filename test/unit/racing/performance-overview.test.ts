import { summarizePerformance } from '../../../src/domain/racing/lap-statistics';
import { mainCombination, pooledConsistencyScore, pooledImprovementTrend, type ComboLap } from '../../../src/domain/racing/performance-overview';

const lap = (trackName: string, lapTimeMs: number, valid = true): ComboLap => ({
  trackName,
  carModel: 'GT3',
  lapTimeMs,
  valid,
  sectorTimesMs: [],
  fullThrottleFraction: 0.5,
});

describe('performance overview across tracks', () => {
  const monza = [90_400, 90_100, 90_300, 89_900, 90_200, 90_050, 91_000].map((t) => lap('Monza', t));

  it('equals the single-track summary for one combination', () => {
    const improving = [91_000, 90_800, 90_500, 90_300, 90_100, 89_900].map((t) => lap('Monza', t));
    for (const laps of [monza, improving, [...monza, lap('Monza', 99_000, false)]]) {
      const summary = summarizePerformance(laps);
      expect(pooledConsistencyScore(laps)).toBe(summary.consistencyScore);
      expect(pooledImprovementTrend(laps)).toBe(summary.improvementTrend);
    }
  });

  it('does not read a change of track as a change of pace', () => {
    // Steady on a 90 s track, then steady on a 130 s track. Pooled raw times would drop every Spa
    // lap as slower than 107 % of the median.
    const spa = [130_300, 130_100, 130_400, 130_000, 130_200, 130_150].map((t) => lap('Spa', t));
    const laps = [...monza, ...spa];
    expect(pooledImprovementTrend(laps)).toBe('stable');
    const score = pooledConsistencyScore(laps)!;
    expect(score).toBeGreaterThan(Math.min(pooledConsistencyScore(monza)!, pooledConsistencyScore(spa)!) - 0.05);
    expect(score).toBeLessThan(Math.max(pooledConsistencyScore(monza)!, pooledConsistencyScore(spa)!) + 0.05);
    expect(score).not.toBe(pooledConsistencyScore(monza));
    expect(mainCombination(laps)).toEqual({ trackName: 'Monza', carModel: 'GT3' });
    expect(mainCombination([])).toBeNull();
  });
});
