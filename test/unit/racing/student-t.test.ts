import { logGamma, regularizedIncompleteBeta, studentTTwoSidedPValue, welchTTest } from '../../../src/domain/racing/student-t';

/**
 * Reference values computed with SciPy 1.17.1 (scipy.special.gammaln, scipy.special.betainc,
 * 2 * scipy.stats.t.sf, scipy.stats.ttest_ind(a, b, equal_var=False)).
 */

describe('special functions', () => {
  it.each([
    [0.5, 0.5723649429247],
    [1, 0],
    [3.7, 1.428072326665388],
    [10, 12.801827480081469],
    [171.3, 708.1149470389971],
  ])('logGamma(%f)', (x, expected) => {
    expect(logGamma(x)).toBeCloseTo(expected, 11);
  });

  it.each([
    [0.5, 2, 3, 0.6875],
    [0.2, 0.5, 10, 0.9630951570658154],
    [0.9, 12.5, 0.5, 0.10806237272416312],
    [0.001, 3, 4, 1.9955035990000006e-8],
    [0.7, 100, 50, 0.8054481662277535],
  ])('I_%f(%f, %f)', (x, a, b, expected) => {
    expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(expected, 12);
    expect(Math.abs(regularizedIncompleteBeta(x, a, b) - expected) / expected).toBeLessThan(1e-9);
  });

  it.each([
    [2.0, 5, 0.10193947882985835],
    [1.0, 1, 0.5000000000000001],
    [3.5, 27.3, 0.001615819601158291],
    [0.1, 200, 0.920444492504321],
  ])('two-sided p of t = %f with %f df', (t, df, expected) => {
    expect(studentTTwoSidedPValue(t, df)).toBeCloseTo(expected, 12);
    expect(studentTTwoSidedPValue(-t, df)).toBeCloseTo(expected, 12);
  });
});

describe("Welch's t-test", () => {
  it('matches SciPy on the two Wikipedia examples and on lap times', () => {
    const cases: Array<[number[], number[], number, number, number]> = [
      [
        [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4],
        [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4],
        -2.455356398286006,
        24.988529290231416,
        0.021378001462866992,
      ],
      [
        [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8],
        [21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8],
        -1.5654335235985037,
        9.904741248650831,
        0.14884169660532817,
      ],
      [
        [85.234, 85.612, 85.401, 85.889, 85.377, 85.502],
        [86.101, 85.977, 86.345, 85.842, 86.21, 86.033, 86.188],
        -5.316987265412102,
        9.04096775673892,
        0.00047563470364374874,
      ],
    ];
    for (const [a, b, t, df, p] of cases) {
      const result = welchTTest(a, b)!;
      expect(result.tStatistic).toBeCloseTo(t, 10);
      expect(result.degreesOfFreedom).toBeCloseTo(df, 9);
      expect(result.pValue).toBeCloseTo(p, 12);
    }
  });

  it('needs two values per sample and handles samples without spread', () => {
    expect(welchTTest([1], [1, 2])).toBeNull();
    expect(welchTTest([5, 5], [5, 5])).toMatchObject({ pValue: 1, tStatistic: 0 });
    expect(welchTTest([5, 5], [6, 6])).toMatchObject({ pValue: 0, tStatistic: -Infinity });
  });
});
