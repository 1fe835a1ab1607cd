import type { LapDetectorConfig } from './lap-detector-config';
import type { TelemetrySample } from './telemetry-batch';

/**
 * Plausibility checks on telemetry: could a car have produced these numbers? A lap that fails one
 * is invalid ('implausible'); a lap is *verified* for leaderboards only when it is valid, passed
 * every check, and carried enough data for the checks to mean something (docs/telemetry.md).
 */

const KMH_PER_MPS = 3.6;

/** Speed changing faster than any car can accelerate or brake: a glitch or an edited trace. */
export function speedSpikeFinding(previous: TelemetrySample, current: TelemetrySample, config: LapDetectorConfig): string | null {
  const dtS = (current.timestampMs - previous.timestampMs) / 1000;
  if (dtS <= 0) return null;
  const accelerationMps2 = Math.abs(current.speedKmh - previous.speedKmh) / KMH_PER_MPS / dtS;
  if (accelerationMps2 <= config.maxAccelerationMps2) return null;
  return (
    `speed changed from ${previous.speedKmh.toFixed(1)} to ${current.speedKmh.toFixed(1)} km/h in ${Math.round(dtS * 1000)} ms ` +
    `(${accelerationMps2.toFixed(0)} m/s², limit ${config.maxAccelerationMps2})`
  );
}

/** Largest position step (lap fraction) a car can make in `dtMs`; more is a teleport or lost data. */
export function maxPositionStep(dtMs: number, config: LapDetectorConfig): number {
  if (config.trackLengthM === null) return config.unknownLengthMaxPositionStep;
  const reachM = (config.maxSpeedKmh / KMH_PER_MPS) * (dtMs / 1000);
  // 1 ‰ of slack: positions come from a spline projection that wobbles a little at low speed.
  return reachM / config.trackLengthM + 0.001;
}

/** What the detector measured over one lap, for the lap-level checks. */
export interface LapEvidence {
  lapTimeMs: number;
  distanceBySpeedM: number;
  /** Path length from world coordinates; null when some point of the lap had none. */
  distanceByWorldM: number | null;
  maxSpeedKmh: number;
  /** Lap time by the sim's own timer (current_lap_time_ms just before the line); null without it. */
  simLapTimeMs: number | null;
  sampleCount: number;
  positionSampleCount: number;
}

/** Findings on a lap that ran line to line without gaps; empty when the lap is plausible. */
export function lapPlausibilityFindings(evidence: LapEvidence, config: LapDetectorConfig): string[] {
  const findings: string[] = [];
  const tolerance = config.distanceTolerance;
  const lapLengthM = config.trackLengthM ?? evidence.distanceByWorldM;
  if (lapLengthM !== null && lapLengthM > 0) {
    // Nobody averages more than their own top speed: the lap can be no shorter than length / top speed.
    const topSpeedMps = Math.max(evidence.maxSpeedKmh, 1e-6) / KMH_PER_MPS;
    const minimumLapTimeMs = (lapLengthM / topSpeedMps) * 1000 * (1 - tolerance);
    if (evidence.lapTimeMs < minimumLapTimeMs) {
      findings.push(
        `lap time ${evidence.lapTimeMs} ms is below the physical minimum of ${Math.round(minimumLapTimeMs)} ms ` +
          `for ${Math.round(lapLengthM)} m at the lap's top speed of ${evidence.maxSpeedKmh.toFixed(1)} km/h`,
      );
    }
  }
  if (config.trackLengthM !== null && relativeMismatch(evidence.distanceBySpeedM, config.trackLengthM) > tolerance) {
    findings.push(`the speed trace covers ${Math.round(evidence.distanceBySpeedM)} m but the lap is ${Math.round(config.trackLengthM)} m`);
  }
  if (evidence.distanceByWorldM !== null && relativeMismatch(evidence.distanceBySpeedM, evidence.distanceByWorldM) > tolerance) {
    findings.push(
      `the speed trace covers ${Math.round(evidence.distanceBySpeedM)} m but the car moved ${Math.round(evidence.distanceByWorldM)} m in world coordinates`,
    );
  }
  if (evidence.simLapTimeMs !== null && Math.abs(evidence.simLapTimeMs - evidence.lapTimeMs) > config.simTimerToleranceMs) {
    findings.push(`timestamps give ${evidence.lapTimeMs} ms but the sim's lap timer gives ${Math.round(evidence.simLapTimeMs)} ms`);
  }
  return findings;
}

/**
 * A valid, plausible lap is verified when the checks had enough to work with: a position on every
 * point, a dense enough sampling, and a lap length (configured or from world coordinates).
 */
export function hasVerifiableEvidence(evidence: LapEvidence, config: LapDetectorConfig): boolean {
  if (evidence.sampleCount === 0 || evidence.positionSampleCount < evidence.sampleCount) return false;
  const sampleRateHz = evidence.sampleCount / Math.max(evidence.lapTimeMs / 1000, 1e-9);
  if (sampleRateHz < config.minVerifiedSampleRateHz) return false;
  return config.trackLengthM !== null || evidence.distanceByWorldM !== null;
}

function relativeMismatch(measured: number, reference: number): number {
  return reference <= 0 ? Infinity : Math.abs(measured - reference) / reference;
}
