/**
 * Cliff's delta between two sets of lap times, as a score from −100 to +100: over every pair
 * (one lap from each set), the share of pairs where the primary lap is faster minus the share
 * where it is slower. +100: every primary lap beats every secondary lap; 0: neither set
 * dominates; −100: the reverse. Rank-based, so one slow outlier cannot swing it, and it answers
 * "how often is the primary driver quicker", which a mean difference does not
 * (Cliff 1993, "Dominance statistics: ordinal analyses to answer ordinal questions").
 */
export function dominanceScore(primaryTimes: readonly number[], secondaryTimes: readonly number[]): number | null {
  if (primaryTimes.length === 0 || secondaryTimes.length === 0) return null;
  // Sorted secondary times + binary search: O((n + m) log m) instead of every pair.
  const sorted = [...secondaryTimes].sort((a, b) => a - b);
  const countBelow = (value: number, strict: boolean): number => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (strict ? sorted[middle]! < value : sorted[middle]! <= value) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  let faster = 0;
  let slower = 0;
  for (const time of primaryTimes) {
    slower += countBelow(time, true); // secondary laps quicker than this primary lap
    faster += sorted.length - countBelow(time, false); // secondary laps slower than it
  }
  const delta = (faster - slower) / (primaryTimes.length * sorted.length);
  return Math.round(delta * 1000) / 10;
}
