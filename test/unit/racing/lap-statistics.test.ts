import {
  consistency,
  consistencyScoreFromCv,
  efficiencyPercent,
  improvementTrend,
  removeOutliers,
  sectorConsistency,
  significanceLevel,
  summarizePerformance,
  type LapSummary,
} from '../../../src/domain/racing/lap-statistics';

const lap = (lapTimeMs: number, sectorTimesMs: Array<number | null> = [], valid = true, fullThrottleFraction = 0.6): LapSummary => ({
  lapTimeMs,
  sectorTimesMs,
  valid,
  fullThrottleFraction,
});

describe('outlier removal', () => {
  it('drops laps slower than 107 % of the median', () => {
    expect(removeOutliers([90_000, 90_200, 89_900, 90_100, 97_000, 90_050])).toEqual({ kept: [90_000, 90_200, 89_900, 90_100, 90_050], outliers: [97_000] });
  });

  it('drops laps with a modified z-score above 3.5 (median absolute deviation)', () => {
    // Median 80,080, MAD 30: 81,500 scores 0.6745 × 1,420 / 30 = 31.9; 80,000 scores 1.8.
    expect(removeOutliers([80_000, 80_100, 80_050, 80_080, 81_500])).toEqual({ kept: [80_000, 80_100, 80_050, 80_080], outliers: [81_500] });
  });

  it('keeps everything when all laps are alike', () => {
    expect(removeOutliers([80_000, 80_000, 80_000])).toEqual({ kept: [80_000, 80_000, 80_000], outliers: [] });
  });
});

describe('consistency score', () => {
  it('is 100 × (1 − CV / 5 %), clamped', () => {
    expect(consistencyScoreFromCv(0)).toBe(100);
    expect(consistencyScoreFromCv(0.01)).toBe(80);
    expect(consistencyScoreFromCv(0.05)).toBe(0);
    expect(consistencyScoreFromCv(0.2)).toBe(0);
  });

  it('scores the valid laps left after outlier removal', () => {
    // Mean 90,000 ms, sample σ √135,000 = 367.4 ms, CV 0.408 % → 91.8.
    const result = consistency([90_000, 90_450, 89_550, 90_000, 99_000]);
    expect(result.score).toBe(91.8);
    expect(result.coefficientOfVariation).toBeCloseTo(0.0040825, 6);
    expect(result.outliersRemoved).toBe(1);
    expect(result.lapsAnalyzed).toBe(4);
    expect(result.statistics).toMatchObject({ meanMs: 90_000, bestMs: 89_550, worstMs: 90_450, medianMs: 90_000 });
    expect(result.statistics!.stdDeviationMs).toBeCloseTo(367.42, 2);
  });

  it('needs three laps', () => {
    expect(consistency([90_000, 90_100]).score).toBeNull();
    expect(consistency([]).statistics).toBeNull();
  });

  it('scores each sector over the valid laps that timed it', () => {
    const laps = [
      lap(90_000, [30_000, 35_000, 25_000]),
      lap(90_300, [30_010, 35_300, 24_990]),
      lap(89_700, [29_990, 34_700, 25_010]),
      lap(90_000, [30_000, 35_000, null]),
      lap(95_000, [31_000, 38_000, 26_000], false),
    ];
    const sectors = sectorConsistency(laps);
    expect(sectors.map((sector) => sector.sectorNumber)).toEqual([1, 2, 3]);
    expect(sectors.map((sector) => sector.lapsAnalyzed)).toEqual([4, 4, 3]);
    expect(sectors[1]!.score!).toBeLessThan(sectors[0]!.score!);
    expect(sectors[1]!.statistics!.meanMs).toBe(35_000);
  });
});

describe('improvement trend', () => {
  // Slopes and p-values from scipy.stats.linregress (SciPy 1.17.1).
  it('is improving when the regression slope is negative, significant and material', () => {
    const result = improvementTrend([90_200, 89_900, 89_700, 89_800, 89_400, 89_300, 89_100, 89_200]);
    expect(result.trend).toBe('improving');
    expect(result.slopeMsPerLap).toBeCloseTo(-150, 9);
    expect(result.pValue).toBeCloseTo(0.00021254622132189425, 12);
  });

  it('is declining for the mirror image', () => {
    expect(improvementTrend([89_200, 89_100, 89_300, 89_400, 89_800, 89_700, 89_900, 90_200]).trend).toBe('declining');
  });

  it('is stable when the slope is not significant', () => {
    const result = improvementTrend([90_000, 90_300, 89_800, 90_200, 89_900, 90_100, 90_050, 89_950]);
    expect(result.trend).toBe('stable');
    expect(result.pValue).toBeCloseTo(0.6697488397231601, 12);
  });

  it('is stable when a perfect trend is too small to matter (5 ms over 6 laps)', () => {
    expect(improvementTrend([90_000, 90_001, 90_002, 90_003, 90_004, 90_005])).toMatchObject({ trend: 'stable', pValue: 0 });
  });

  it('regresses on lap order, leaving a hole where an outlier was', () => {
    const result = improvementTrend([90_200, 89_900, 89_700, 99_999, 89_400, 89_300, 89_100]);
    expect(result.lapsAnalyzed).toBe(6);
    expect(result.slopeMsPerLap).toBeCloseTo(-171.42857142857144, 9);
    expect(result.pValue).toBeCloseTo(0.00015725977073555335, 12);
  });

  it('needs five laps', () => {
    expect(improvementTrend([90_000, 89_000, 88_000, 87_000]).trend).toBe('insufficient_data');
  });
});

describe('significance, efficiency and the overview', () => {
  it('maps p-values to levels', () => {
    expect([0.001, 0.0099, 0.01, 0.049, 0.05, 0.099, 0.1, 0.9, null].map(significanceLevel)).toEqual([
      'high',
      'high',
      'medium',
      'medium',
      'low',
      'low',
      'none',
      'none',
      'none',
    ]);
  });

  it('efficiency is the mean full-throttle share of valid laps in percent', () => {
    expect(efficiencyPercent([lap(1, [], true, 0.62), lap(1, [], true, 0.64), lap(1, [], false, 0.1)])).toBe(63);
    expect(efficiencyPercent([lap(1, [], false)])).toBeNull();
  });

  it('summarizes a session', () => {
    const laps = [lap(100_000, [], false), lap(90_200), lap(89_900), lap(89_700), lap(89_800), lap(89_400), lap(89_300), lap(89_100), lap(89_200)];
    expect(summarizePerformance(laps)).toEqual({
      totalLaps: 9,
      validLaps: 8,
      bestLapTimeMs: 89_100,
      averageLapTimeMs: 89_575,
      consistencyScore: consistency([90_200, 89_900, 89_700, 89_800, 89_400, 89_300, 89_100, 89_200]).score,
      improvementTrend: 'improving',
      efficiencyPercent: 60,
    });
  });
});
