/**
 * CPU per stage of one telemetry upload, in isolation (`npx ts-node --transpile-only
 * bench/ingest-stages.ts`): what the HTTP -> validate -> decide -> append -> ClickHouse path spends
 * on a 2 000-point batch in this process, without the engines, so the stages can be compared on a
 * busy machine. BENCH_BATCH (points, 2000), BENCH_ROUNDS (200). The ClickHouse stages are the
 * consumer's: rows as a columnar block, and that block as Arrow buffers (chDB reads them as they are).
 */
import { findUnstorableText } from '../src/api/shared/storable-text';
import { batchFingerprint } from '../src/domain/racing/telemetry-batch-fingerprint';
import { validateTelemetryBatch } from '../src/domain/racing/telemetry-point';
import { telemetrySessionDecider, type TelemetrySession } from '../src/domain/racing/telemetry-session';
import { readTelemetryBatchRecorded } from '../src/domain/racing/telemetry-session-events';
import { decodeRecordedEvent, toNewEvent, upcastRecordedEvent } from '../src/infrastructure/eventstore/event-decoding';
import { arrowColumns } from '../src/infrastructure/analytics/chdb-arrow-input';
import { pointBlock } from '../src/projections/clickhouse/racing/telemetry-analytics-projection';
import { sessionPoints } from './lib/bench-telemetry';

const BATCH = Number(process.env.BENCH_BATCH ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

const points = sessionPoints(7, BATCH * ROUNDS, 50);
const bodies = Array.from({ length: ROUNDS }, (_, i) => JSON.stringify({ data_points: points.slice(i * BATCH, (i + 1) * BATCH), batch_id: `b${i}` }));
const cpuMicros = new Map<string, number>();
function stage<T>(name: string, work: () => T): T {
  const before = process.cpuUsage();
  const result = work();
  const used = process.cpuUsage(before);
  cpuMicros.set(name, (cpuMicros.get(name) ?? 0) + used.user + used.system);
  return result;
}

let state: TelemetrySession = telemetrySessionDecider.initialState();
const now = new Date(Date.UTC(2026, 0, 1)).toISOString();
for (const event of telemetrySessionDecider.decide(
  { type: 'CreateSession', sessionId: '00000000-0000-4000-8000-000000000001', ownerId: '00000000-0000-4000-8000-000000000002', sessionName: 's', trackName: 'Generated Ring', carModel: 'GT3', weatherConditions: null, trackTemperatureC: null, airTemperatureC: null, trackLengthM: 4568.45, now },
  state,
)) state = telemetrySessionDecider.evolve(state, event);

for (const [round, body] of bodies.entries()) {
  const parsed = stage('JSON.parse body', () => JSON.parse(body) as { data_points: unknown[]; batch_id: string });
  stage('findUnstorableText body', () => findUnstorableText(parsed));
  const validated = stage('validateTelemetryBatch', () => validateTelemetryBatch(parsed.data_points));
  if (!validated.ok) throw validated.error;
  const fingerprint = stage('batchFingerprint', () => batchFingerprint(validated.batch));
  const command = { type: 'RecordTelemetryBatch' as const, sessionId: '00000000-0000-4000-8000-000000000001', userId: '00000000-0000-4000-8000-000000000002', batchId: `b${round}`, fingerprint, columns: validated.batch, maxPartBytes: 512 * 1024, now };
  const events = stage('decide (parts, laps)', () => telemetrySessionDecider.decide(command, state));
  stage('evolve', () => {
    for (const event of events) state = telemetrySessionDecider.evolve(state, event);
  });
  const stored = stage('toNewEvent (pack)', () => events.map((event) => toNewEvent(event)));
  const json = stage('JSON.stringify stored data', () => stored.map((event) => JSON.stringify(event.data)));
  const batchEvent = stored[0]!;
  const recorded = { id: 'e', streamId: 'session-x', type: batchEvent.type, data: JSON.parse(json[0]!) as never, metadata: batchEvent.metadata, revision: 0n, position: { commit: 0n, prepare: 0n }, createdAt: new Date() };
  stage('sessions read model: decode, read the summary', () => decodeRecordedEvent(recorded as never).data as { pointCount?: number });
  const upcast = stage('CH: upcast (unpack)', () => upcastRecordedEvent(recorded as never));
  const data = stage('CH: readTelemetryBatchRecorded checkPoints', () => readTelemetryBatchRecorded(json[0] && JSON.parse(json[0]), { checkPoints: true }));
  const block = stage('CH: pointBlock (columns)', () => pointBlock(data, data.columns));
  stage('CH: Arrow buffers for chDB', () => arrowColumns(block));
  void upcast;
}
const total = [...cpuMicros.values()].reduce((a, b) => a + b, 0);
console.table([...cpuMicros].map(([name, micros]) => ({ stage: name, 'ms per batch': Number((micros / ROUNDS / 1000).toFixed(2)), 'µs per point': Number((micros / ROUNDS / BATCH).toFixed(2)), share: `${((100 * micros) / total).toFixed(1)} %` })));
console.log(`total ${(total / ROUNDS / 1000).toFixed(1)} ms per ${BATCH}-point batch`);
