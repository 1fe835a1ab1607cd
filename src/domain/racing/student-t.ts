/**
 * Student's t distribution and Welch's t-test, from first principles: log-gamma (Lanczos),
 * the regularized incomplete beta function (Lentz's continued fraction) and the two-sided tail
 * probability P(|T| >= t) = I_{df/(df+t²)}(df/2, 1/2). Checked against SciPy in the unit tests.
 */

const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (reflection below 1/2), ~15 significant digits. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0]!;
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i += 1) sum += LANCZOS_COEFFICIENTS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 <= x <= 1. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError('regularizedIncompleteBeta needs a, b > 0');
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  // The continued fraction converges fast only left of the mean; use I_x(a,b) = 1 - I_{1-x}(b,a) beyond it.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const epsilon = 1e-15;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let result = d;
  for (let m = 1; m <= 10_000; m += 1) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + even * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + even / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    result *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + odd * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + odd / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    result *= step;
    if (Math.abs(step - 1) < epsilon) return result;
  }
  return result;
}

/** P(|T| >= |t|) for Student's t with `degreesOfFreedom` (need not be an integer). */
export function studentTTwoSidedPValue(t: number, degreesOfFreedom: number): number {
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(degreesOfFreedom / (degreesOfFreedom + t * t), degreesOfFreedom / 2, 0.5);
}

export interface WelchTTest {
  /** (mean A − mean B) / standard error; negative when A's values are smaller. */
  tStatistic: number;
  /** Welch–Satterthwaite degrees of freedom. */
  degreesOfFreedom: number;
  /** Two-sided p-value for "the two means are equal". */
  pValue: number;
  meanDifference: number;
}

/**
 * Welch's unequal-variance t-test on two independent samples (each needs >= 2 values).
 * Two samples without any spread: equal means give p = 1, different means p = 0.
 */
export function welchTTest(a: readonly number[], b: readonly number[]): WelchTTest | null {
  if (a.length < 2 || b.length < 2) return null;
  const meanA = average(a);
  const meanB = average(b);
  const shareA = sampleVariance(a, meanA) / a.length;
  const shareB = sampleVariance(b, meanB) / b.length;
  const standardError = Math.sqrt(shareA + shareB);
  const meanDifference = meanA - meanB;
  if (standardError === 0) {
    const identical = meanDifference === 0;
    return { tStatistic: identical ? 0 : Math.sign(meanDifference) * Infinity, degreesOfFreedom: a.length + b.length - 2, pValue: identical ? 1 : 0, meanDifference };
  }
  const tStatistic = meanDifference / standardError;
  const degreesOfFreedom = (shareA + shareB) ** 2 / (shareA ** 2 / (a.length - 1) + shareB ** 2 / (b.length - 1));
  return { tStatistic, degreesOfFreedom, pValue: studentTTwoSidedPValue(tStatistic, degreesOfFreedom), meanDifference };
}

export function average(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Unbiased (n − 1) variance. */
export function sampleVariance(values: readonly number[], mean = average(values)): number {
  if (values.length < 2) return 0;
  return values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
}
