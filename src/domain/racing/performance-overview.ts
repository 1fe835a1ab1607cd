import { consistency, improvementTrend, median, validLapTimes, type ImprovementTrendLabel, type LapSummary } from './lap-statistics';

/**
 * Lap times only compare on one track in one car. Over laps from several track + car
 * combinations (the performance overview without filters), the consistency score is the mean of
 * each combination's score weighted by the laps it analysed, and the improvement trend runs on
 * relative pace: each valid lap time divided by the median valid lap of its combination, in
 * chronological order. For a single combination both equal `summarizePerformance`'s.
 */

export interface ComboLap extends LapSummary {
  trackName: string;
  carModel: string;
}

const comboKey = (lap: ComboLap): string => JSON.stringify([lap.trackName, lap.carModel]);

function byCombination(laps: readonly ComboLap[]): Map<string, ComboLap[]> {
  const groups = new Map<string, ComboLap[]>();
  for (const lap of laps) groups.set(comboKey(lap), [...(groups.get(comboKey(lap)) ?? []), lap]);
  return groups;
}

export function pooledConsistencyScore(laps: readonly ComboLap[]): number | null {
  let weighted = 0;
  let weight = 0;
  for (const group of byCombination(laps).values()) {
    const result = consistency(validLapTimes(group));
    if (result.score === null) continue;
    weighted += result.score * result.lapsAnalyzed;
    weight += result.lapsAnalyzed;
  }
  return weight === 0 ? null : Math.round((weighted / weight) * 10) / 10;
}

/** `laps` chronological. */
export function pooledImprovementTrend(laps: readonly ComboLap[]): ImprovementTrendLabel {
  const medians = new Map<string, number>();
  for (const [key, group] of byCombination(laps)) {
    const times = validLapTimes(group);
    if (times.length > 0) medians.set(key, median(times));
  }
  const relativePace = laps.filter((lap) => lap.valid).map((lap) => lap.lapTimeMs / medians.get(comboKey(lap))!);
  return improvementTrend(relativePace).trend;
}

/** The combination with the most valid laps (ties: the first driven), for statistics that need one. */
export function mainCombination(laps: readonly ComboLap[]): { trackName: string; carModel: string } | null {
  let best: { trackName: string; carModel: string; valid: number } | null = null;
  for (const group of byCombination(laps).values()) {
    const valid = group.filter((lap) => lap.valid).length;
    if (best === null || valid > best.valid) best = { trackName: group[0]!.trackName, carModel: group[0]!.carModel, valid };
  }
  return best === null ? null : { trackName: best.trackName, carModel: best.carModel };
}
