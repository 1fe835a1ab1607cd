import { accumulateInterval, addPoint, finishLap, flagLap, startLap } from './lap-accumulator';
import type { LapDetectorConfig } from './lap-detector-config';
import type { LapCompleted } from './lap-events';
import type { EstimatedLapBounds } from './lap-estimation';
import type { LapEstimatorConfig } from './lap-estimator-config';
import { speedSpikeFinding } from './plausibility';
import type { TelemetrySample } from './telemetry-batch';

/**
 * A LapCompleted for laps found by estimation: the same lap aggregates and validity checks as a
 * detected lap (the lap accumulator), over the points between the estimated boundaries; flagged
 * `estimated` and never verified (no position backs the lap's start and end).
 * `samples` are the points around the lap in time order, including one before and one after it.
 */
export function estimatedLapCompleted(
  lapNumber: number,
  bounds: EstimatedLapBounds,
  samples: readonly TelemetrySample[],
  detectorConfig: LapDetectorConfig,
  estimatorConfig: LapEstimatorConfig,
): LapCompleted {
  const lap = startLap(lapNumber, bounds.startMs, !bounds.partial, 3);
  lap.splitAtMs = bounds.splitsMs === null ? [null, null] : [...bounds.splitsMs];
  for (let i = 0; i < samples.length; i += 1) {
    const current = samples[i]!;
    const previous = samples[i - 1];
    if (previous !== undefined && current.timestampMs > bounds.startMs && previous.timestampMs < bounds.endMs) {
      const dtMs = current.timestampMs - previous.timestampMs;
      const from = Math.max(0, (bounds.startMs - previous.timestampMs) / dtMs);
      const to = Math.min(1, (bounds.endMs - previous.timestampMs) / dtMs);
      accumulateInterval(lap, previous, current, from, to);
      if (dtMs > detectorConfig.maxGapMs) flagLap(lap, 'incomplete', `data gap of ${dtMs} ms`);
      else {
        const spike = speedSpikeFinding(previous, current, detectorConfig);
        if (spike !== null) flagLap(lap, 'implausible', spike);
      }
    }
    if (current.timestampMs < bounds.startMs || current.timestampMs > bounds.endMs) continue;
    addPoint(lap, current);
  }
  if (stoodStill(samples.filter((sample) => sample.timestampMs >= bounds.startMs && sample.timestampMs <= bounds.endMs), estimatorConfig)) {
    flagLap(lap, 'pit', 'the car stood still (pit stop)');
  }
  return { ...finishLap(lap, bounds.endMs, detectorConfig), isVerified: false, estimated: true };
}

/**
 * A stop: some stretch of at least `standstillMs` whose mean speed stays below `standstillKmh`
 * (the mean, so that sensor noise around zero does not break a stop into pieces).
 */
function stoodStill(samples: readonly TelemetrySample[], config: LapEstimatorConfig): boolean {
  let start = 0;
  let distanceKmhMs = 0;
  const step = (a: TelemetrySample, b: TelemetrySample) => ((a.speedKmh + b.speedKmh) / 2) * (b.timestampMs - a.timestampMs);
  for (let end = 1; end < samples.length; end += 1) {
    distanceKmhMs += step(samples[end - 1]!, samples[end]!);
    // The shortest stretch ending here that still lasts standstillMs.
    while (start + 1 < end && samples[end]!.timestampMs - samples[start + 1]!.timestampMs >= config.standstillMs) {
      distanceKmhMs -= step(samples[start]!, samples[start + 1]!);
      start += 1;
    }
    const spanMs = samples[end]!.timestampMs - samples[start]!.timestampMs;
    if (spanMs >= config.standstillMs && distanceKmhMs / spanMs < config.standstillKmh) return true;
  }
  return false;
}
