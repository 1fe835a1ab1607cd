import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AnalyticsRowValidationError, type Analytics } from '../../../src/infrastructure/analytics/analytics';
import { createAnalytics, type ClickHouseAnalytics } from '../../../src/infrastructure/analytics/clickhouse-analytics';
import type { ColumnBlock } from '../../../src/infrastructure/analytics/column-block';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { describeWithEngine } from '../../support/engines';

/**
 * One contract, run against embedded chDB (always) and a ClickHouse server (when
 * CLICKHOUSE_URL is set). libchdb binds one data directory per process; jest gives this file
 * its own worker, and the chDB run its own temp directory.
 */

const logger = createLogger({ level: 'silent' });

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS {db}.telemetry_points (
     session_id String,
     track LowCardinality(String),
     lap UInt16,
     ts DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
     elapsed_ms UInt32 CODEC(Delta, ZSTD(1)),
     speed_kmh Float64 CODEC(Gorilla, ZSTD(1)),
     throttle Float32 CODEC(Gorilla, ZSTD(1))
   ) ENGINE = MergeTree
   ORDER BY (session_id, ts)
   SETTINGS non_replicated_deduplication_window = 1000`,
  `CREATE TABLE IF NOT EXISTS {db}.ingest_events (
     batch String,
     seq UInt32,
     label String
   ) ENGINE = MergeTree
   ORDER BY (batch, seq)
   SETTINGS non_replicated_deduplication_window = 1000`,
];

interface TelemetryPoint {
  session_id: string;
  track: string;
  lap: number;
  ts: string;
  elapsed_ms: number;
  speed_kmh: number;
  throttle: number;
}

const SESSIONS = 4;
const POINTS_PER_SESSION = 25_000;
const POINTS_PER_LAP = 2_500;
const SAMPLE_INTERVAL_MS = 10;
const START_MS = Date.UTC(2025, 0, 1);

/** Speeds are quarters and throttles eighths: exact in binary floats, so sums compare exactly. */
function generateTelemetry(): TelemetryPoint[] {
  const points: TelemetryPoint[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    for (let i = 0; i < POINTS_PER_SESSION; i++) {
      const tsMs = START_MS + s * 3_600_000 + i * SAMPLE_INTERVAL_MS;
      points.push({
        session_id: `session-${s}`,
        track: s % 2 === 0 ? 'spa' : 'monza',
        lap: Math.floor(i / POINTS_PER_LAP),
        ts: new Date(tsMs).toISOString().replace('T', ' ').replace('Z', ''),
        elapsed_ms: i * SAMPLE_INTERVAL_MS,
        speed_kmh: ((i * 37 + s * 11) % 1200) / 4,
        throttle: ((i * 13) % 9) / 8,
      });
    }
  }
  return points;
}

const LapSummary = z.object({
  lap: z.number().int(),
  points: z.coerce.number(),
  first_ts_ms: z.coerce.number(),
  last_ts_ms: z.coerce.number(),
  max_speed: z.number(),
  speed_sum: z.number(),
  throttle_sum: z.number(),
});
type LapSummary = z.infer<typeof LapSummary>;

function expectedLapSummaries(points: TelemetryPoint[], session: string, fromLap: number, toLap: number): LapSummary[] {
  const byLap = new Map<number, LapSummary>();
  for (const p of points) {
    if (p.session_id !== session || p.lap < fromLap || p.lap > toLap) continue;
    const tsMs = Date.parse(`${p.ts.replace(' ', 'T')}Z`);
    const lap = byLap.get(p.lap) ?? {
      lap: p.lap, points: 0, first_ts_ms: Infinity, last_ts_ms: -Infinity, max_speed: -Infinity, speed_sum: 0, throttle_sum: 0,
    };
    lap.points += 1;
    lap.first_ts_ms = Math.min(lap.first_ts_ms, tsMs);
    lap.last_ts_ms = Math.max(lap.last_ts_ms, tsMs);
    lap.max_speed = Math.max(lap.max_speed, p.speed_kmh);
    lap.speed_sum += p.speed_kmh;
    lap.throttle_sum += p.throttle;
    byLap.set(p.lap, lap);
  }
  return [...byLap.values()].sort((a, b) => a.lap - b.lap);
}

const LAP_SUMMARY_SQL = `
  SELECT lap,
         count() AS points,
         toUnixTimestamp64Milli(min(ts)) AS first_ts_ms,
         toUnixTimestamp64Milli(max(ts)) AS last_ts_ms,
         max(speed_kmh) AS max_speed,
         sum(speed_kmh) AS speed_sum,
         sum(toFloat64(throttle)) AS throttle_sum
  FROM {db}.telemetry_points
  WHERE session_id = {session:String} AND track = {track:String} AND lap BETWEEN {fromLap:UInt16} AND {toLap:UInt16}
  GROUP BY lap
  ORDER BY lap`;

const CountRow = z.object({ rows: z.coerce.number() });

async function countRows(analytics: Analytics, table: string, where = '1'): Promise<number> {
  const [row] = await analytics.query(`SELECT count() AS rows FROM {db}.${table} WHERE ${where}`, {}, CountRow);
  return row.rows;
}

interface StoreUnderTest {
  /** Opens a client on the store (a new one each call, same data). */
  open(options?: { insertChunkRows?: number }): Promise<Analytics>;
  /** Removes what the run created. */
  dispose(): Promise<void>;
}

function analyticsContract(makeStore: () => StoreUnderTest): void {
  const telemetry = generateTelemetry();
  let store: StoreUnderTest;
  let analytics: Analytics;

  beforeAll(async () => {
    store = makeStore();
    analytics = await store.open();
  });

  afterAll(async () => {
    await analytics?.close();
    await store?.dispose();
  });

  it('applies the schema, and applying it again changes nothing', async () => {
    await analytics.ensureSchema(SCHEMA);
    await analytics.ensureSchema(SCHEMA);
    const Table = z.object({ name: z.string() });
    const tables = await analytics.query(
      'SELECT name FROM system.tables WHERE database = {database:String} ORDER BY name',
      { database: analytics.database },
      Table,
    );
    expect(tables.map((t) => t.name)).toEqual(['ingest_events', 'telemetry_points']);
  });

  it('names the failing statement when a schema statement is invalid', async () => {
    await expect(analytics.ensureSchema(['CREATE TABLE {db}.broken (x NoSuchType) ENGINE = Memory'])).rejects.toThrow(
      /statement 1 of 1 failed[\s\S]*NoSuchType/,
    );
  });

  it('inserts 100k time-series rows in chunks and a parameterised aggregate returns exactly the expected values', async () => {
    await analytics.insert('telemetry_points', telemetry, { deduplicationToken: 'telemetry-seed' });
    expect(await countRows(analytics, 'telemetry_points')).toBe(SESSIONS * POINTS_PER_SESSION);

    const params = { session: 'session-2', track: 'spa', fromLap: 3, toLap: 6 };
    const laps = await analytics.query(LAP_SUMMARY_SQL, params, LapSummary);
    const expected = expectedLapSummaries(telemetry, 'session-2', 3, 6);
    expect(expected).toHaveLength(4);
    expect(laps).toEqual(expected);

    // Same session on the wrong track: the track parameter really filters.
    expect(await analytics.query(LAP_SUMMARY_SQL, { ...params, track: 'monza' }, LapSummary)).toEqual([]);
  });

  it('repeating a chunked insert with the same deduplication token writes nothing', async () => {
    await analytics.insert('telemetry_points', telemetry, { deduplicationToken: 'telemetry-seed' });
    expect(await countRows(analytics, 'telemetry_points')).toBe(SESSIONS * POINTS_PER_SESSION);
  });

  it('deduplicates by token: same token is written once, a new token is new data, no token is never stale', async () => {
    const rows = [1, 2, 3].map((seq) => ({ batch: 'b', seq, label: `row ${seq}` }));
    await analytics.insert('ingest_events', rows, { deduplicationToken: 'batch-1' });
    await analytics.insert('ingest_events', rows, { deduplicationToken: 'batch-1' });
    expect(await countRows(analytics, 'ingest_events')).toBe(3);

    // Identical content under another token is another batch (content hashing alone would drop it).
    await analytics.insert('ingest_events', rows, { deduplicationToken: 'batch-2' });
    expect(await countRows(analytics, 'ingest_events')).toBe(6);

    // No token after a tokened insert: must not inherit the previous token (chDB session quirk).
    await analytics.insert('ingest_events', [{ batch: 'untokened', seq: 1, label: 'fresh' }]);
    expect(await countRows(analytics, 'ingest_events', "batch = 'untokened'")).toBe(1);

    await expect(analytics.insert('ingest_events', rows, { deduplicationToken: '' })).rejects.toThrow(/must not be empty/);
  });

  it('gives every chunk of a tokened insert its own token', async () => {
    const smallChunks = await store.open({ insertChunkRows: 2 });
    try {
      const rows = [1, 2, 3, 4, 5].map((seq) => ({ batch: 'chunked', seq, label: `chunk row ${seq}` }));
      await smallChunks.insert('ingest_events', rows, { deduplicationToken: 'chunked-1' });
      await smallChunks.insert('ingest_events', rows, { deduplicationToken: 'chunked-1' });
      expect(await countRows(smallChunks, 'ingest_events', "batch = 'chunked'")).toBe(5);
    } finally {
      await smallChunks.close();
    }
  });

  it('inserts a columnar block: numbers, nulls, booleans, epoch milliseconds and text runs, deduplicated by token and chunked', async () => {
    const sessions = ['6f1c6a8e-4d2b-4c44-9c1e-000000000001', '6f1c6a8e-4d2b-4c44-9c1e-000000000002'];
    const block: ColumnBlock = {
      rowCount: 5,
      columns: [
        { name: 'session_id', kind: 'text', runs: [{ value: sessions[0]!, count: 3 }, { value: sessions[1]!, count: 2 }] },
        { name: 'car', kind: 'text', runs: [{ value: `O'Brien \\ GT3 ü`, count: 5 }] },
        { name: 'ts', kind: 'epochMs', values: new Float64Array([START_MS, START_MS + 20, START_MS + 40, START_MS + 10, START_MS + 30]) },
        { name: 'speed', kind: 'number', values: new Float64Array([120.25, 0, 301.5, 99.75, 0.125]), nulls: null },
        { name: 'gear', kind: 'number', values: new Float64Array([3, -1, 6, 0, 10]), nulls: null },
        { name: 'lap_ms', kind: 'number', values: new Float64Array([1000, 0, 86_400_000, 7, 0]), nulls: new Uint8Array([0, 1, 0, 0, 1]) },
        { name: 'in_pit', kind: 'bool', values: new Uint8Array([1, 0, 0, 1, 0]), nulls: new Uint8Array([0, 0, 1, 0, 0]) },
      ],
    };
    const Row = z.object({ session_id: z.string(), car: z.string(), ts: z.coerce.number(), speed: z.number(), gear: z.number(), lap_ms: z.number().nullable(), in_pit: z.boolean().nullable() });
    const read = () =>
      analytics.query(
        'SELECT toString(session_id) AS session_id, car, toUnixTimestamp64Milli(ts) AS ts, speed, gear, lap_ms, in_pit FROM {db}.column_rows ORDER BY session_id, ts',
        {},
        Row,
      );
    // A table of its own, dropped at the end (the schema test lists the contract's tables).
    await analytics.command(`CREATE TABLE IF NOT EXISTS {db}.column_rows (
     session_id UUID,
     car LowCardinality(String),
     ts DateTime64(3, 'UTC'),
     speed Float32,
     gear Int8,
     lap_ms Nullable(UInt32),
     in_pit Nullable(Bool)
   ) ENGINE = MergeTree
   ORDER BY (session_id, ts)
   SETTINGS non_replicated_deduplication_window = 1000`);
    // Embedded chDB takes the typed arrays through the Arrow C data interface, a server JSON text.
    expect((analytics as ClickHouseAnalytics).columnarInput).toBe((analytics as ClickHouseAnalytics).backend === 'chdb' ? 'arrow' : 'json');
    await analytics.insertColumns('column_rows', block, { deduplicationToken: 'columns-1' });
    await analytics.insertColumns('column_rows', block, { deduplicationToken: 'columns-1' });
    const car = `O'Brien \\ GT3 ü`;
    expect(await read()).toEqual([
      { session_id: sessions[0], car, ts: START_MS, speed: 120.25, gear: 3, lap_ms: 1000, in_pit: true },
      { session_id: sessions[0], car, ts: START_MS + 20, speed: 0, gear: -1, lap_ms: null, in_pit: false },
      { session_id: sessions[0], car, ts: START_MS + 40, speed: 301.5, gear: 6, lap_ms: 86_400_000, in_pit: null },
      { session_id: sessions[1], car, ts: START_MS + 10, speed: 99.75, gear: 0, lap_ms: 7, in_pit: true },
      { session_id: sessions[1], car, ts: START_MS + 30, speed: 0.125, gear: 10, lap_ms: null, in_pit: false },
    ]);

    // Chunks of 2 rows, each with its own token: the same block again under the same token writes nothing.
    const smallChunks = await store.open({ insertChunkRows: 2 });
    try {
      await smallChunks.insertColumns('column_rows', block, { deduplicationToken: 'columns-2' });
      await smallChunks.insertColumns('column_rows', block, { deduplicationToken: 'columns-2' });
      expect(await countRows(smallChunks, 'column_rows')).toBe(10);
    } finally {
      await smallChunks.close();
    }
    await expect(analytics.insertColumns('column_rows', { ...block, rowCount: 6 })).rejects.toThrow(/has 5 rows, the block 6/);
    await expect(analytics.insertColumns('column_rows', block, { deduplicationToken: '' })).rejects.toThrow(/must not be empty/);
    await analytics.command('DROP TABLE {db}.column_rows');
  });

  it('treats parameters as values, never as SQL', async () => {
    const hostile = `o'brien'); DROP TABLE ingest_events; --`;
    await analytics.insert('ingest_events', [{ batch: 'hostile', seq: 1, label: hostile }]);

    const Label = z.object({ label: z.string() });
    const found = await analytics.query('SELECT label FROM {db}.ingest_events WHERE label = {label:String}', { label: hostile }, Label);
    expect(found).toEqual([{ label: hostile }]);

    const injected = { session: `session-1' OR '1'='1`, track: `spa' OR '1'='1`, fromLap: 0, toLap: 100 };
    expect(await analytics.query(LAP_SUMMARY_SQL, injected, LapSummary)).toEqual([]);
    expect(await countRows(analytics, 'ingest_events', "batch = 'hostile'")).toBe(1);
  });

  it('rejects a row of the wrong shape with an error naming the field', async () => {
    // count() is UInt64, which arrives as a JSON string on both backends: a z.number() schema must fail.
    const WrongShape = z.object({ rows: z.number(), track: z.string() });
    const attempt = analytics.query(
      'SELECT count() AS rows, any(track) AS track FROM {db}.telemetry_points WHERE session_id = {s:String}',
      { s: 'session-0' },
      WrongShape,
    );
    await expect(attempt).rejects.toBeInstanceOf(AnalyticsRowValidationError);
    await expect(attempt).rejects.toThrow(/row 0 that does not match its schema[\s\S]*expected number, received string[\s\S]*at rows/);

    const [asString] = await analytics.query('SELECT count() AS rows FROM {db}.telemetry_points', {}, z.object({ rows: z.string() }));
    expect(asString.rows).toBe(String(SESSIONS * POINTS_PER_SESSION));
  });

  it('answers ping', async () => {
    expect(await analytics.ping()).toBe(true);
  });

  it('keeps the data after the client is closed and a new one is opened on the same store', async () => {
    await analytics.close();
    await analytics.close(); // idempotent
    expect(await analytics.ping()).toBe(false);
    await expect(analytics.query('SELECT 1 AS one', {}, z.object({ one: z.number() }))).rejects.toThrow(/closed/);

    analytics = await store.open();
    expect(await countRows(analytics, 'telemetry_points')).toBe(SESSIONS * POINTS_PER_SESSION);
    const laps = await analytics.query(LAP_SUMMARY_SQL, { session: 'session-1', track: 'monza', fromLap: 0, toLap: 9 }, LapSummary);
    expect(laps).toEqual(expectedLapSummaries(telemetry, 'session-1', 0, 9));
    expect(await countRows(analytics, 'ingest_events', "batch = 'hostile'")).toBe(1);
  });
}

function chdbLoadFailure(): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('chdb/connection');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const chdbFailure = chdbLoadFailure();
describeWithEngine('chdb', chdbFailure === null, `chdb not loadable: ${chdbFailure}`)('ClickHouseAnalytics on embedded chDB', () => {
  analyticsContract(() => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arena-test-analytics-'));
    return {
      open: (options) => createAnalytics({ database: 'arena_test', dataDir, logger, ...options }),
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  });
});

const clickhouseUrl = process.env.CLICKHOUSE_URL;
if (!clickhouseUrl) process.stdout.write('SKIPPED: CLICKHOUSE_URL not set\n');
(clickhouseUrl ? describe : describe.skip)('ClickHouseAnalytics on a ClickHouse server', () => {
  analyticsContract(() => {
    const database = `arena_test_${process.pid}_${Date.now()}`;
    const dataDir = tmpdir(); // unused by the server backend
    return {
      open: (options) => createAnalytics({ url: clickhouseUrl, database, dataDir, logger, ...options }),
      dispose: async () => {
        const admin = await createAnalytics({ url: clickhouseUrl, database, dataDir, logger });
        await admin.command(`DROP DATABASE IF EXISTS ${database}`);
        await admin.close();
      },
    };
  });
});
