import { deltaTrace, lapTraceFromSamples, valueAtPosition, type LapTrace } from '../../../src/domain/racing/delta-trace';
import { detectLaps, initialLapDetectorState } from '../../../src/domain/racing/lap-detection';
import { lapDetectorConfig } from '../../../src/domain/racing/lap-detector-config';
import { fromColumns } from '../../../src/domain/racing/telemetry-batch';
import { validateTelemetryBatch } from '../../../src/domain/racing/telemetry-point';
import { generateSession } from '../../fixtures/telemetry/trace-generator';
import { lapping, T0 } from './hand-built-trace';

/** A lap at constant speed, optionally slower by `scale`, sampled every 0.1 % of the lap. */
function uniformLap(lapTimeMs: number, scale = 1): LapTrace {
  const positions = Array.from({ length: 1001 }, (_, i) => i / 1000);
  return {
    positions,
    elapsedMs: positions.map((position) => position * lapTimeMs * scale),
    speedKmh: positions.map(() => 200 / scale),
    brakeInput: positions.map(() => 0),
    throttleInput: positions.map(() => 1),
  };
}

describe('delta trace', () => {
  it('is zero everywhere for identical laps', () => {
    const trace = deltaTrace(uniformLap(80_000), uniformLap(80_000), { points: 51 });
    expect(trace.positions).toHaveLength(51);
    expect(trace.deltaMs.every((delta) => delta === 0)).toBe(true);
    expect(trace.distanceM).toBeNull();
  });

  it('grows linearly when lap B is 1 % slower all the way round', () => {
    const trace = deltaTrace(uniformLap(80_000), uniformLap(80_000, 1.01), { points: 11, trackLengthM: 4000 });
    trace.deltaMs.forEach((delta, i) => expect(delta).toBeCloseTo(800 * trace.positions[i]!, 6));
    expect(trace.deltaMs[10]).toBeCloseTo(800, 6);
    expect(trace.distanceM).toEqual(trace.positions.map((position) => position * 4000));
  });

  it('shows where the time goes', () => {
    const slowInMiddle = uniformLap(80_000);
    slowInMiddle.elapsedMs = slowInMiddle.positions.map((p) => p * 80_000 + Math.min(Math.max((p - 0.4) / 0.1, 0), 1) * 500);
    const trace = deltaTrace(uniformLap(80_000), slowInMiddle, { points: 11 });
    expect(trace.deltaMs.map((delta) => Math.round(delta))).toEqual([0, 0, 0, 0, 0, 500, 500, 500, 500, 500, 500]);
  });

  it('interpolates linearly between points', () => {
    expect(valueAtPosition([0, 0.5, 1], [0, 100, 300], 0.75)).toBe(200);
    expect(valueAtPosition([0, 0.5, 1], [0, 100, 300], -1)).toBe(0);
    expect(valueAtPosition([0, 0.5, 1], [0, 100, 300], 2)).toBe(300);
  });
});

describe('lap trace from samples', () => {
  it('anchors the lap at 0 and 1 and keeps positions strictly increasing', () => {
    const samples = lapping({
      lapTimeMs: 60_000,
      startPosition: 0.9,
      durationMs: 130_000,
      intervalMs: 100,
      firstOffsetMs: 3,
      // Just after the line one point still reads behind it; mid-lap one point repeats its position.
      extra: (position, elapsed) => (elapsed === 6_200 ? { normalizedCarPosition: 0.9995 } : elapsed === 36_000 ? { normalizedCarPosition: position - 0.001 } : {}),
    });
    const trace = lapTraceFromSamples(samples, { startedAtMs: T0 + 3 + 6_000, endedAtMs: T0 + 3 + 66_000 })!;
    expect(trace.positions[0]).toBe(0);
    expect(trace.elapsedMs[0]).toBe(0);
    expect(trace.positions[trace.positions.length - 1]).toBe(1);
    expect(trace.elapsedMs[trace.elapsedMs.length - 1]).toBe(60_000);
    for (let i = 1; i < trace.positions.length; i += 1) expect(trace.positions[i]!).toBeGreaterThan(trace.positions[i - 1]!);
    expect(trace.positions).not.toContain(0.9995);
    expect(valueAtPosition(trace.positions, trace.elapsedMs, 0.5)).toBeCloseTo(30_000, 6);
  });

  it('returns null for an empty lap', () => {
    expect(lapTraceFromSamples([], { startedAtMs: 10, endedAtMs: 10 })).toBeNull();
  });

  it('on generated laps, the final delta is the lap time difference', () => {
    const session = generateSession({ seed: 11, laps: 3, hz: 50, start: 'rolling' });
    const validated = validateTelemetryBatch(session.points, { maxPoints: 1_000_000 });
    if (!validated.ok) throw validated.error;
    const { laps } = detectLaps(initialLapDetectorState(), validated.batch, lapDetectorConfig({ trackLengthM: session.trackLengthM }));
    const samples = fromColumns(validated.batch);
    const [a, b] = [laps[1]!, laps[2]!].map((lap) => lapTraceFromSamples(samples, lap)!);
    const trace = deltaTrace(a!, b!, { points: 200, trackLengthM: session.trackLengthM });
    expect(trace.deltaMs[199]).toBeCloseTo(laps[2]!.lapTimeMs - laps[1]!.lapTimeMs, 6);
    // The two laps differ corner by corner, so the delta moves along the lap rather than all at the end.
    const quarter = trace.deltaMs[50]!;
    expect(Math.abs(quarter)).toBeGreaterThan(5);
  });
});
