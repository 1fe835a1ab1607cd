import { deltaTrace, lapTraceFromSamples, type LapTrace } from '../../domain/racing/delta-trace';
import { dominanceScore } from '../../domain/racing/dominance';
import { mainCombination, pooledConsistencyScore, pooledImprovementTrend } from '../../domain/racing/performance-overview';
import { consistency, keptIndices, sectorConsistency, summarizePerformance, validLapTimes } from '../../domain/racing/lap-statistics';
import { compareSessions } from '../../domain/racing/session-comparison';
import type { Analytics } from '../../infrastructure/analytics/analytics';
import { sessionSamples, type AnalyticsLap } from '../../projections/clickhouse/racing/telemetry-analytics-queries';

/**
 * The analytics answers, from lap rows and telemetry read from ClickHouse, computed by the pure
 * functions of src/domain/racing. Times leave here in seconds (the contract's unit), 3 decimals.
 */

/** The contract's consistency answer names three sectors. */
const DOCUMENTED_SECTORS = 3;
const toSeconds = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : Math.round(ms) / 1000);
const round = (value: number | null, decimals: number): number | null => (value === null ? null : Math.round(value * 10 ** decimals) / 10 ** decimals);

export function overviewReport(laps: readonly AnalyticsLap[], sessions: { sessions: number; tracks: number; cars: number }) {
  const summary = summarizePerformance(laps);
  return {
    total_sessions: sessions.sessions,
    total_laps: summary.totalLaps,
    valid_laps: summary.validLaps,
    best_lap_time: toSeconds(summary.bestLapTimeMs),
    average_lap_time: toSeconds(summary.averageLapTimeMs),
    // Across several tracks or cars, scores per combination, pooled (performance-overview.ts).
    consistency_score: pooledConsistencyScore(laps),
    improvement_trend: pooledImprovementTrend(laps),
    tracks_driven: sessions.tracks,
    cars_used: sessions.cars,
    efficiency: summary.efficiencyPercent,
  };
}

/**
 * Lap times compare only on one track in one car: over several combinations the statistics are
 * those of the one with the most valid laps, named in the answer.
 */
export function consistencyReport(allLaps: readonly AnalyticsLap[]) {
  const main = mainCombination(allLaps);
  const laps = main === null ? [] : allLaps.filter((lap) => lap.trackName === main.trackName && lap.carModel === main.carModel);
  const result = consistency(validLapTimes(laps));
  const stats = result.statistics;
  return {
    track_name: main?.trackName ?? null,
    car_model: main?.carModel ?? null,
    consistency_score: result.score,
    total_laps_analyzed: result.lapsAnalyzed,
    outliers_removed: result.outliersRemoved,
    coefficient_of_variation: round(result.coefficientOfVariation, 5),
    lap_time_statistics: {
      mean: toSeconds(stats?.meanMs),
      std_deviation: toSeconds(stats?.stdDeviationMs),
      best: toSeconds(stats?.bestMs),
      worst: toSeconds(stats?.worstMs),
      median: toSeconds(stats?.medianMs),
    },
    // The documented sector_1..sector_3 always, with nulls where no valid lap timed them; more when laps have more.
    sector_consistency: Object.fromEntries([
      ...Array.from({ length: DOCUMENTED_SECTORS }, (_, i) => [`sector_${i + 1}`, { score: null, mean: null, std_deviation: null, laps_analyzed: 0 }]),
      ...sectorConsistency(laps).map((sector) => [
        `sector_${sector.sectorNumber}`,
        {
          score: sector.score,
          mean: toSeconds(sector.statistics?.meanMs),
          std_deviation: toSeconds(sector.statistics?.stdDeviationMs),
          laps_analyzed: sector.lapsAnalyzed,
        },
      ]),
    ]),
  };
}

export function bestValidLap(laps: readonly AnalyticsLap[]): AnalyticsLap | null {
  return laps.filter((lap) => lap.valid).reduce<AnalyticsLap | null>((best, lap) => (best === null || lap.lapTimeMs < best.lapTimeMs ? lap : best), null);
}

/** A lap's telemetry as elapsed time by track position; null without positions in its points. */
export async function lapTrace(analytics: Analytics, lap: AnalyticsLap): Promise<LapTrace | null> {
  const samples = await sessionSamples(analytics, lap.sessionId, lap.startedAtMs, lap.endedAtMs);
  if (!samples.some((sample) => sample.normalizedCarPosition !== null)) return null;
  return lapTraceFromSamples(samples, lap);
}

export async function comparisonReport(
  analytics: Analytics,
  primaryLaps: readonly AnalyticsLap[],
  secondaryLaps: readonly AnalyticsLap[],
  options: { detailed: boolean; trackLengthM: number | null },
) {
  const trace = async (laps: readonly AnalyticsLap[]) => {
    const best = options.detailed ? bestValidLap(laps) : null;
    return best === null ? null : lapTrace(analytics, best);
  };
  const [primaryBest, secondaryBest] = await Promise.all([trace(primaryLaps), trace(secondaryLaps)]);
  const comparison = compareSessions(
    { laps: primaryLaps, bestLap: primaryBest },
    { laps: secondaryLaps, bestLap: secondaryBest },
    { trackLengthM: options.trackLengthM },
  );
  const kept = (laps: readonly AnalyticsLap[]) => {
    const times = validLapTimes(laps);
    return keptIndices(times).map((index) => times[index]!);
  };
  const primaryKept = kept(primaryLaps);
  const secondaryKept = kept(secondaryLaps);
  return {
    overall_score: dominanceScore(primaryKept, secondaryKept),
    lap_time_delta: toSeconds(comparison.lapTimeDeltaMs),
    mean_lap_time_delta: toSeconds(comparison.meanLapTimeDeltaMs),
    consistency_delta: comparison.consistencyDelta,
    efficiency_delta: comparison.efficiencyDelta,
    significance: comparison.significance,
    recommendations: comparison.recommendations,
    statistics: {
      test: 'welch_t' as const,
      t_statistic: round(comparison.welch?.tStatistic ?? null, 4),
      degrees_of_freedom: round(comparison.welch?.degreesOfFreedom ?? null, 2),
      p_value: comparison.welch?.pValue ?? null,
      primary_laps: primaryKept.length,
      secondary_laps: secondaryKept.length,
    },
  };
}

export function deltaReport(traceA: LapTrace, traceB: LapTrace, points: number, trackLengthM: number | null) {
  const delta = deltaTrace(traceA, traceB, { points, trackLengthM });
  return delta.positions.map((position, i) => ({
    position: Math.round(position * 1e6) / 1e6,
    distance_m: delta.distanceM === null ? null : Math.round(delta.distanceM[i]! * 10) / 10,
    time_a: Math.round(delta.elapsedAMs[i]!) / 1000,
    time_b: Math.round(delta.elapsedBMs[i]!) / 1000,
    delta: Math.round(delta.deltaMs[i]!) / 1000,
  }));
}
