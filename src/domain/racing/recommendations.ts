import { deltaTrace, valueAtPosition, type LapTrace } from './delta-trace';
import { average } from './student-t';
import { keptIndices, sectorConsistency, type LapSummary } from './lap-statistics';

/**
 * Coaching sentences computed from two sessions' laps and best-lap traces. Every sentence is
 * built from the numbers it reports; a finding below its threshold yields no sentence at all.
 * "Primary" is the driver being coached, "secondary" the session compared against.
 */

export interface SessionForComparison {
  /** Chronological. */
  laps: readonly LapSummary[];
  /** The best valid lap's trace, when its telemetry is available. */
  bestLap: LapTrace | null;
}

export const RECOMMENDATION_RULES = {
  minSectorLossMs: 50,
  /** Lap split into this many equal segments to find where time goes. */
  segmentCount: 20,
  minSegmentLossMs: 20,
  /** Brake pedal above this starts a braking zone... */
  brakeOnThreshold: 0.2,
  /** ...if the pedal was below it for at least this share of the lap before (ignores pumping). */
  brakeOffBeforeLap: 0.02,
  /** A zone in one lap matches the other lap's nearest onset within this share of the lap. */
  brakeMatchWindowLap: 0.03,
  /** Time lost is measured from the onset over this share of the lap (the corner that follows). */
  cornerLengthLap: 0.05,
  minBrakeShiftM: 5,
  minBrakeShiftLap: 0.001,
  minConsistencyGap: 5,
} as const;

export interface SectorDelta {
  sectorNumber: number;
  primaryMeanMs: number;
  secondaryMeanMs: number;
  /** Positive: primary slower. */
  deltaMs: number;
}

/** Mean time per sector over valid laps (lap-time outliers removed), primary minus secondary. */
export function sectorDeltas(primary: readonly LapSummary[], secondary: readonly LapSummary[]): SectorDelta[] {
  const means = (laps: readonly LapSummary[]) => {
    const valid = laps.filter((lap) => lap.valid);
    const kept = keptIndices(valid.map((lap) => lap.lapTimeMs)).map((i) => valid[i]!);
    const count = kept.reduce((max, lap) => Math.max(max, lap.sectorTimesMs.length), 0);
    return Array.from({ length: count }, (_, sector) => {
      const times = kept.flatMap((lap) => (typeof lap.sectorTimesMs[sector] === 'number' ? [lap.sectorTimesMs[sector]] : []));
      return times.length > 0 ? average(times) : null;
    });
  };
  const a = means(primary);
  const b = means(secondary);
  return a.flatMap((primaryMeanMs, i) => {
    const secondaryMeanMs = b[i];
    if (primaryMeanMs === null || secondaryMeanMs === null || secondaryMeanMs === undefined) return [];
    return [{ sectorNumber: i + 1, primaryMeanMs, secondaryMeanMs, deltaMs: primaryMeanMs - secondaryMeanMs }];
  });
}

export interface SegmentLoss {
  fromPosition: number;
  toPosition: number;
  /** Time the primary lap loses over this segment (negative: gains). */
  lostMs: number;
}

export function segmentLosses(primaryLap: LapTrace, secondaryLap: LapTrace, segmentCount: number = RECOMMENDATION_RULES.segmentCount): SegmentLoss[] {
  const delta = deltaTrace(secondaryLap, primaryLap, { points: segmentCount + 1 });
  return delta.positions.slice(1).map((toPosition, i) => ({ fromPosition: delta.positions[i]!, toPosition, lostMs: delta.deltaMs[i + 1]! - delta.deltaMs[i]! }));
}

/** Positions where the brake pedal rises through the threshold after being off for a while. */
export function brakingOnsets(lap: LapTrace): number[] {
  const onsets: number[] = [];
  let offSince: number | null = 0;
  for (let i = 1; i < lap.positions.length; i += 1) {
    const before = lap.brakeInput[i - 1]!;
    const now = lap.brakeInput[i]!;
    const threshold = RECOMMENDATION_RULES.brakeOnThreshold;
    if (before < threshold && now >= threshold) {
      const from = lap.positions[i - 1]!;
      const onset = from + ((threshold - before) / (now - before)) * (lap.positions[i]! - from);
      if (offSince !== null && onset - offSince >= RECOMMENDATION_RULES.brakeOffBeforeLap) onsets.push(onset);
      offSince = null;
    } else if (before >= threshold && now < threshold) {
      offSince = lap.positions[i]!;
    }
  }
  return onsets;
}

export interface BrakingComparison {
  secondaryOnset: number;
  primaryOnset: number;
  /** Primary minus secondary in lap fraction: negative = primary brakes earlier. */
  shiftLap: number;
  /** Time the primary lap loses from its onset over the corner that follows. */
  lostMs: number;
}

export function compareBraking(primaryLap: LapTrace, secondaryLap: LapTrace): BrakingComparison[] {
  const primaryOnsets = brakingOnsets(primaryLap);
  const delta = (position: number) =>
    valueAtPosition(primaryLap.positions, primaryLap.elapsedMs, position) - valueAtPosition(secondaryLap.positions, secondaryLap.elapsedMs, position);
  return brakingOnsets(secondaryLap).flatMap((secondaryOnset) => {
    const nearest = primaryOnsets.reduce<number | null>((best, onset) => (best === null || Math.abs(onset - secondaryOnset) < Math.abs(best - secondaryOnset) ? onset : best), null);
    if (nearest === null || Math.abs(nearest - secondaryOnset) > RECOMMENDATION_RULES.brakeMatchWindowLap) return [];
    const from = Math.min(nearest, secondaryOnset);
    const to = Math.min(1, from + RECOMMENDATION_RULES.cornerLengthLap);
    return [{ secondaryOnset, primaryOnset: nearest, shiftLap: nearest - secondaryOnset, lostMs: delta(to) - delta(from) }];
  });
}

export function recommendations(primary: SessionForComparison, secondary: SessionForComparison, trackLengthM: number | null): string[] {
  const sentences: string[] = [];
  const where = (position: number) => `${percent(position)} of the lap${trackLengthM === null ? '' : ` (≈ ${metres(position * trackLengthM)})`}`;

  const sectors = sectorDeltas(primary.laps, secondary.laps);
  if (sectors.length > 0) {
    const worst = sectors.reduce((a, b) => (b.deltaMs > a.deltaMs ? b : a));
    if (worst.deltaMs >= RECOMMENDATION_RULES.minSectorLossMs) {
      sentences.push(
        `Sector ${worst.sectorNumber} costs you ${seconds(worst.deltaMs)} per lap on average (${seconds(worst.primaryMeanMs)} against ${seconds(worst.secondaryMeanMs)}), ` +
          `the largest loss of the ${sectors.length} sectors.`,
      );
    } else if (sectors.every((sector) => sector.deltaMs < 0)) {
      sentences.push(`You are faster in all ${sectors.length} sectors; sector ${worst.sectorNumber} gains the least (${seconds(-worst.deltaMs)} per lap).`);
    }
  }

  const scored = sectorConsistency(primary.laps).filter((sector) => sector.score !== null && sector.statistics !== null);
  if (scored.length > 1) {
    const least = scored.reduce((a, b) => (b.score! < a.score! ? b : a));
    const most = scored.reduce((a, b) => (b.score! > a.score! ? b : a));
    if (most.score! - least.score! >= RECOMMENDATION_RULES.minConsistencyGap) {
      sentences.push(
        `Sector ${least.sectorNumber} is your least consistent: σ ${seconds(least.statistics!.stdDeviationMs)} (score ${least.score!.toFixed(1)}) ` +
          `against σ ${seconds(most.statistics!.stdDeviationMs)} in sector ${most.sectorNumber} (score ${most.score!.toFixed(1)}).`,
      );
    }
  }

  if (primary.bestLap !== null && secondary.bestLap !== null) {
    const losses = segmentLosses(primary.bestLap, secondary.bestLap);
    const worstSegment = losses.reduce((a, b) => (b.lostMs > a.lostMs ? b : a));
    if (worstSegment.lostMs >= RECOMMENDATION_RULES.minSegmentLossMs) {
      const span = trackLengthM === null ? '' : ` (${metres(worstSegment.fromPosition * trackLengthM)} to ${metres(worstSegment.toPosition * trackLengthM)})`;
      sentences.push(
        `Your best lap loses the most time between ${percent(worstSegment.fromPosition)} and ${percent(worstSegment.toPosition)} of the lap${span}: ` +
          `${seconds(worstSegment.lostMs)} against the other session's best lap.`,
      );
    }
    const braking = compareBraking(primary.bestLap, secondary.bestLap).filter((zone) =>
      trackLengthM === null ? Math.abs(zone.shiftLap) >= RECOMMENDATION_RULES.minBrakeShiftLap : Math.abs(zone.shiftLap) * trackLengthM >= RECOMMENDATION_RULES.minBrakeShiftM,
    );
    const costly = braking.filter((zone) => zone.lostMs > 0);
    if (costly.length > 0) {
      const zone = costly.reduce((a, b) => (b.lostMs > a.lostMs ? b : a));
      const shift = trackLengthM === null ? `${(Math.abs(zone.shiftLap) * 100).toFixed(1)} % of the lap` : metres(Math.abs(zone.shiftLap) * trackLengthM);
      const earlier = zone.shiftLap < 0;
      sentences.push(
        `In the braking zone at ${where(zone.secondaryOnset)} you brake ${shift} ${earlier ? 'earlier' : 'later'} than the other session's best lap ` +
          `and lose ${seconds(zone.lostMs)} through the corner: ${earlier ? 'brake later' : 'brake earlier and carry more speed out'}.`,
      );
    }
  }
  return sentences;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const percent = (position: number): string => `${Math.round(position * 1000) / 10} %`;
/** Thousands separated by commas, independent of the process locale. */
const metres = (m: number): string => `${String(Math.round(m)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} m`;
