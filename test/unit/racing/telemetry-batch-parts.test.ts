import { batchLength } from '../../../src/domain/racing/telemetry-batch';
import { partEnd, splitIntoParts } from '../../../src/domain/racing/telemetry-batch-parts';
import {
  findRecordedBatch,
  isBatchComplete,
  telemetrySessionDecider,
  type OpenSession,
  type TelemetrySessionCommand,
  type TelemetrySessionEvent,
} from '../../../src/domain/racing/telemetry-session';
import { ConflictError } from '../../../src/domain/shared/errors';
import { columns, lapping } from './hand-built-trace';

/** An upload too large for one event is recorded as ordered parts (issue 14, defect 2). */
const NOW = '2026-01-02T03:04:05.000Z';
const context = { sessionId: 's1', ownerId: 'u1', trackName: 'Monza', carModel: 'Ferrari 488 GT3' };
const created: TelemetrySessionEvent = {
  type: 'SessionCreated',
  data: { ...context, sessionName: 'Practice', weatherConditions: null, trackTemperatureC: null, airTemperatureC: null, trackLengthM: 4000, createdAt: NOW },
};
const trace = lapping({ lapTimeMs: 60_000, startPosition: 0.9, durationMs: 150_000, intervalMs: 50, trackLengthM: 4000, firstOffsetMs: 7 });
const upload = columns(trace);
const BUDGET = 16 * 1024;

const record = (maxPartBytes: number | undefined, fingerprint = 'fp-1'): TelemetrySessionCommand => ({
  type: 'RecordTelemetryBatch',
  sessionId: 's1',
  userId: 'u1',
  batchId: 'b1',
  fingerprint,
  columns: upload,
  ...(maxPartBytes === undefined ? {} : { maxPartBytes }),
  now: NOW,
});

const fold = (events: TelemetrySessionEvent[]) => events.reduce(telemetrySessionDecider.evolve, telemetrySessionDecider.initialState());

/** Decides the command again and again, as recordTelemetryBatch does, until nothing is left. */
function recordAll(history: TelemetrySessionEvent[], command: TelemetrySessionCommand): TelemetrySessionEvent[][] {
  const appends: TelemetrySessionEvent[][] = [];
  for (;;) {
    const events = telemetrySessionDecider.decide(command, fold([...history, ...appends.flat()]));
    if (events.length === 0) return appends;
    appends.push(events);
  }
}

describe('telemetry batch parts', () => {
  it('cuts consecutive slices whose JSON stays within the budget, covering every point once', () => {
    const parts = splitIntoParts(upload, BUDGET);
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.reduce((sum, part) => sum + batchLength(part), 0)).toBe(batchLength(upload));
    expect(parts.flatMap((part) => part.timestampMs)).toEqual(upload.timestampMs);
    for (const part of parts) expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThanOrEqual(BUDGET);
    expect(partEnd(upload, 0, 1)).toBe(1); // at least one point per part
    expect(splitIntoParts(upload, 64 * 1024 * 1024)).toEqual([upload]);
  });

  it('cuts where counting point by point cuts, also when the whole rest fits (budgets around its size)', () => {
    // The rule's definition: each point costs the JSON of its value in every present channel, plus a comma.
    const present = Object.entries(upload).filter(([, column]) => column !== undefined) as Array<[string, unknown[]]>;
    const emptyBytes = 2 + present.reduce((sum, [name]) => sum + name.length + 5, 0);
    const pointCost = (index: number) => present.reduce((sum, [, column]) => sum + JSON.stringify(column[index] ?? null).length + 1, 0);
    const byPoints = (from: number, budget: number) => {
      let bytes = emptyBytes;
      let end = from;
      while (end < batchLength(upload) && !(end > from && bytes + pointCost(end) > budget)) bytes += pointCost(end++);
      return end;
    };
    for (const from of [0, 1, 17, batchLength(upload) - 2, batchLength(upload) - 1]) {
      let rest = emptyBytes;
      for (let index = from; index < batchLength(upload); index += 1) rest += pointCost(index);
      for (const budget of [rest + 1, rest, rest - 1, rest - pointCost(batchLength(upload) - 1), Math.floor(rest / 2), 1]) {
        expect(partEnd(upload, from, budget)).toBe(byPoints(from, budget));
      }
      expect(partEnd(upload, from, rest)).toBe(batchLength(upload));
      if (from < batchLength(upload) - 1) expect(partEnd(upload, from, rest - 1)).toBe(batchLength(upload) - 1);
    }
  });

  it('records an upload in parts with the same points, laps and sectors as in one event', () => {
    const whole = recordAll([created], record(undefined));
    expect(whole).toHaveLength(1);
    const inParts = recordAll([created], record(BUDGET));
    expect(inParts.length).toBeGreaterThan(5);
    const batches = (appends: TelemetrySessionEvent[][]) =>
      appends.flat().flatMap((event) => (event.type === 'TelemetryBatchRecorded' ? [event.data] : []));
    const laps = (appends: TelemetrySessionEvent[][]) => appends.flat().filter((event) => event.type !== 'TelemetryBatchRecorded');
    expect(laps(inParts)).toEqual(laps(whole));
    expect(laps(whole).filter((event) => event.type === 'LapCompleted').length).toBeGreaterThan(0);
    const parts = batches(inParts);
    expect(parts.flatMap((part) => part.columns.timestampMs)).toEqual(upload.timestampMs);
    expect(parts.map((part) => part.firstPointIndex)).toEqual(parts.map((_, index) => parts.slice(0, index).reduce((sum, p) => sum + p.pointCount, 0)));
    expect(new Set(parts.map((part) => part.batchPointCount))).toEqual(new Set([batchLength(upload)]));
    expect(batches(whole)[0]).not.toHaveProperty('firstPointIndex');

    const state = fold([created, ...inParts.flat()]) as OpenSession;
    const batch = findRecordedBatch(state, 'b1')!;
    expect(batch).toMatchObject({ pointCount: batchLength(upload), pointsRecorded: batchLength(upload) });
    expect(batch.lapsCompleted).toBe(findRecordedBatch(fold([created, ...whole.flat()]) as OpenSession, 'b1')!.lapsCompleted);
    expect(state.pointCount).toBe(batchLength(upload));
  });

  it('a retry after some parts goes on from the first missing point, and a retry after all records nothing', () => {
    const inParts = recordAll([created], record(BUDGET));
    const firstTwo = inParts.slice(0, 2).flat();
    const partial = findRecordedBatch(fold([created, ...firstTwo]) as OpenSession, 'b1')!;
    expect(isBatchComplete(partial)).toBe(false);
    // A retry with another budget still continues exactly where the stored parts stop.
    const resumed = recordAll([created, ...firstTwo], record(BUDGET * 2));
    const all = [...firstTwo, ...resumed.flat()];
    expect(all.flatMap((event) => (event.type === 'TelemetryBatchRecorded' ? event.data.columns.timestampMs : []))).toEqual(upload.timestampMs);
    expect(all.filter((event) => event.type === 'LapCompleted')).toEqual(inParts.flat().filter((event) => event.type === 'LapCompleted'));
    expect(telemetrySessionDecider.decide(record(BUDGET), fold([created, ...all]))).toEqual([]);
    // The same batch id with other points is a conflict, also while unfinished.
    expect(() => telemetrySessionDecider.decide(record(BUDGET, 'fp-other'), fold([created, ...firstTwo]))).toThrow(ConflictError);
  });
});
