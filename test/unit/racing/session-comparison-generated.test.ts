import { lapTraceFromSamples } from '../../../src/domain/racing/delta-trace';
import { detectLaps, initialLapDetectorState } from '../../../src/domain/racing/lap-detection';
import { lapDetectorConfig } from '../../../src/domain/racing/lap-detector-config';
import type { SessionForComparison } from '../../../src/domain/racing/recommendations';
import { compareSessions } from '../../../src/domain/racing/session-comparison';
import { fromColumns } from '../../../src/domain/racing/telemetry-batch';
import { validateTelemetryBatch } from '../../../src/domain/racing/telemetry-point';
import { generateSession, type SessionOptions } from '../../fixtures/telemetry/trace-generator';

/** Two generated sessions through detection and comparison, the way the analytics endpoint will run them. */
function analysed(options: SessionOptions): { session: SessionForComparison; trackLengthM: number } {
  const generated = generateSession(options);
  const validated = validateTelemetryBatch(generated.points, { maxPoints: 1_000_000 });
  if (!validated.ok) throw validated.error;
  const { laps } = detectLaps(initialLapDetectorState(), validated.batch, lapDetectorConfig({ trackLengthM: generated.trackLengthM }));
  const best = laps.filter((lap) => lap.valid).reduce((a, b) => (b.lapTimeMs < a.lapTimeMs ? b : a));
  return { session: { laps, bestLap: lapTraceFromSamples(fromColumns(validated.batch), best) }, trackLengthM: generated.trackLengthM };
}

describe('comparing generated sessions', () => {
  const primary = analysed({ seed: 21, laps: 6, hz: 30, start: 'rolling', sectorGripScale: [1, 0.93, 1] });
  const secondary = analysed({ seed: 22, laps: 6, hz: 30, start: 'rolling' });
  const result = compareSessions(primary.session, secondary.session, { trackLengthM: primary.trackLengthM });

  it('finds the timid sector 2 and where in it the time goes', () => {
    expect(result.lapTimeDeltaMs!).toBeGreaterThan(300);
    expect(result.significance).toBe('high');
    expect(result.recommendations[0]).toMatch(/^Sector 2 costs you \d\.\d\d s per lap on average/);
    const segment = result.recommendations.find((sentence) => sentence.startsWith('Your best lap loses the most time between'));
    const [from, to] = /between ([\d.]+) % and ([\d.]+) % of the lap/.exec(segment ?? '')!.slice(1).map(Number);
    expect(from).toBeGreaterThanOrEqual(30);
    expect(to).toBeLessThanOrEqual(70);
  });

  it('sees the earlier braking of the timid driver in sector 2', () => {
    const braking = result.recommendations.find((sentence) => sentence.startsWith('In the braking zone'));
    expect(braking).toMatch(/^In the braking zone at [\d.]+ % of the lap \(≈ [\d,]+ m\) you brake \d+ m earlier than the other session's best lap and lose \d\.\d\d s through the corner: brake later\.$/);
    const at = Number(/at ([\d.]+) %/.exec(braking!)![1]);
    expect(at).toBeGreaterThan(33.3);
    expect(at).toBeLessThan(66.7);
  });
});
