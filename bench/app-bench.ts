/**
 * One run of the system benchmarks against one bus (`npm run bench` runs it once per bus and prints
 * the table; see bench/index.ts). Writes its rows as JSON to BENCH_RESULT_FILE.
 *
 *   BENCH_BUS=postgres|kafka  (kafka needs KAFKA_BROKERS)
 *   BENCH_QUICK=1             small sizes and short runs
 *   BENCH_ONLY=commands       only the command rows (c=32 against the raw append, c=1 p50); without a
 *                             result file the rows are printed as a table
 *   BENCH_ONLY=ingest         only the ingest row and (in-process bus) the analytics overview row
 * Sizes (env): BENCH_SECONDS (per load run), BENCH_INGEST_POINTS, BENCH_MEMORY_POINTS, BENCH_IDLE_SECONDS.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { clickHouseReplayNames } from '../src/runtime/ops/replay-runner';
import { generateSession } from '../test/fixtures/telemetry/trace-generator';
import { BENCH_DATABASE, startBenchApp, type BenchApp } from './lib/bench-app';
import { runLoad, type LoadRequest, type LoadResult } from './lib/http-load';
import { committedPerSecond, measureRawPostgres } from './lib/raw-postgres';
import { rawReadPass } from './lib/raw-read-pass';
import { replayRows, replayTiming } from './lib/replay-timing';
import { formatBenchTable, type BenchRow } from './lib/bench-table';
import { describeMemory, memorySnapshot } from './lib/memory-snapshot';
import { settledRss, waitForSystemIdle } from './lib/system-idle';
import { busiestThreads, threadTicks } from './lib/thread-cpu';
import { allocatorTunablesSet } from '../src/infrastructure/process/allocator-tunables';
import { runBench } from './lib/run-bench';
import { helloWorld } from './lib/hello-world';

const QUICK = process.env.BENCH_QUICK === '1';
/** PostgreSQL's PGSTAT_IDLE_INTERVAL (10 s) and a margin: by then every idle backend has flushed its counts. */
const PG_STATS_FLUSH_MS = 11_000;
const BUS = process.env.BENCH_BUS === 'kafka' ? 'kafka' : 'postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 4 : 12));
const INGEST_POINTS = Number(process.env.BENCH_INGEST_POINTS ?? (QUICK ? 100_000 : 400_000));
const MEMORY_POINTS = Number(process.env.BENCH_MEMORY_POINTS ?? (QUICK ? 200_000 : 2_000_000));
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? (QUICK ? 5 : 10));
/** The memory row reads RSS once it stopped moving, at most this long after the system went idle. */
const MEMORY_SETTLE_MAX_SECONDS = 45;
const COMMAND_CLIENTS = 32;
const READ_CLIENTS = 16;
const UPLOAD_BATCH = 2_000;
const UPLOAD_SESSIONS = 4;
const POINTS_PER_SESSION = 50_000;
const RAW_BLOCK_ROWS = 50_000;
const HZ = 50;
/** BENCH_ONLY=commands runs only the command rows (the idle, ingest, read, memory and replay rows are left out). */
const ONLY_COMMANDS = process.env.BENCH_ONLY === 'commands';
/** BENCH_ONLY=ingest runs only the ingest row and (in-process bus) the analytics overview row. */
const ONLY_INGEST = process.env.BENCH_ONLY === 'ingest';
const CLI = resolve(__dirname, '..', 'dist', 'src', 'cli.js');

const ms = (seconds: number) => seconds * 1000;
const round = (value: number, digits = 0) => Number(value.toFixed(digits));
const log = (message: string) => console.error(`[bench ${BUS}] ${message}`);

function checked(what: string, result: LoadResult): LoadResult {
  log(`${what}: ${round(result.perSecond, 1)}/s, p50 ${round(result.p50Ms, 1)} ms, ${result.errors} errors`);
  if (result.requests === 0) throw new Error(`${what}: no request succeeded (${result.firstError ?? 'no error recorded'})`);
  return result;
}

/** True for a keep-alive socket the server closed while idle, just as fetch reused it: nothing reached the app. */
const isStaleSocket = (error: unknown): boolean =>
  error instanceof TypeError && (error.cause as { code?: string } | undefined)?.code === 'ECONNRESET';

async function call(app: BenchApp, method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  const send = () =>
    fetch(`${app.url}/api/v1${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  // After an idle pause longer than the server's keep-alive timeout (preparing the ingest bodies),
  // the first request may meet a socket the server just closed: sent again on a fresh one.
  const response = await send().catch((error: unknown) => (isStaleSocket(error) ? send() : Promise.reject(error)));
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
  return answer;
}

interface BenchUser {
  readonly id: string;
  readonly token: string;
}

async function registerUsers(app: BenchApp, count: number): Promise<BenchUser[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const answer = await call(app, 'POST', '/auth/register', { username: `bench_user_${i}`, email: `bench${i}@bench.io`, password: 'BenchPass123' });
      return { id: String((answer.user as { id: string }).id), token: String(answer.access_token) };
    }),
  );
}

const SESSION_BODY = JSON.stringify({ session_name: 'bench', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 });
const createSession = (user: BenchUser): LoadRequest => ({ method: 'POST', path: '/api/v1/telemetry/sessions', headers: { authorization: `Bearer ${user.token}` }, body: SESSION_BODY });
const updateProfile = (user: BenchUser, i: number): LoadRequest => ({
  method: 'PUT',
  path: '/api/v1/users/me',
  headers: { authorization: `Bearer ${user.token}` },
  body: JSON.stringify({ full_name: `Bench Driver ${i}` }),
});

function chdbClient(path: string): ClickHouseClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createChdbConnection } = require('chdb/connection') as typeof import('chdb/connection');
  return createClient({ connection: createChdbConnection({ path }) as unknown as NonNullable<ClickHouseClientConfigOptions['connection']> });
}

async function chCount(raw: ClickHouseClient, table: string): Promise<number> {
  const rows = await (await raw.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })).json<{ n: string | number }>();
  return Number(rows[0]?.n ?? 0);
}

/** The ClickHouse table the app keeps `pattern` rows in (found by name, so the bench needs no schema). */
async function findTable(raw: ClickHouseClient, database: string, pattern: string): Promise<string> {
  const rows = await (
    await raw.query({
      query: `SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE {pattern:String} AND engine NOT LIKE '%View%' ORDER BY total_rows DESC`,
      query_params: { db: database, pattern },
      format: 'JSONEachRow',
    })
  ).json<{ name: string }>();
  const name = rows[0]?.name;
  if (!name) throw new Error(`no ClickHouse table like ${pattern} in ${database}`);
  return `${database}.${name}`;
}

/** One session's upload bodies (`UPLOAD_BATCH` points each, serialized). */
type SessionUploads = string[];

/** Generated points for `total`, in sessions of POINTS_PER_SESSION, as upload bodies. */
function prepareUploads(total: number, seedBase: number): SessionUploads[] {
  const sessions: SessionUploads[] = [];
  for (let done = 0, seed = seedBase; done < total; done += POINTS_PER_SESSION) {
    seed += 1;
    const count = Math.min(POINTS_PER_SESSION, total - done);
    const points = generateSession({ seed, laps: Math.ceil(count / (HZ * 75)) + 1, hz: HZ, start: 'rolling' }).points.slice(0, count);
    const bodies: string[] = [];
    for (let start = 0; start < points.length; start += UPLOAD_BATCH) {
      bodies.push(JSON.stringify({ data_points: points.slice(start, start + UPLOAD_BATCH), batch_id: `bench-${seed}-${start}` }));
    }
    sessions.push(bodies);
  }
  return sessions;
}

/** Creates a session per entry and uploads its bodies in order, UPLOAD_SESSIONS sessions at a time; returns the points sent. */
async function sendUploads(app: BenchApp, user: BenchUser, sessions: SessionUploads[]): Promise<void> {
  for (let first = 0; first < sessions.length; first += UPLOAD_SESSIONS) {
    await Promise.all(
      sessions.slice(first, first + UPLOAD_SESSIONS).map(async (bodies) => {
        const session = await call(app, 'POST', '/telemetry/sessions', SESSION_BODY, user.token);
        for (const body of bodies) await call(app, 'POST', `/telemetry/sessions/${String(session.id)}/data`, body, user.token);
      }),
    );
  }
}

/**
 * Uploads `total` generated points. The ingest row prepares every body before its clock starts (the
 * bench's trace generator and JSON.stringify are not the app's work); the memory row prepares one
 * group of sessions at a time, so the bench never holds millions of points.
 */
async function uploadPoints(app: BenchApp, user: BenchUser, total: number, seedBase: number): Promise<number> {
  const groupPoints = POINTS_PER_SESSION * UPLOAD_SESSIONS;
  for (let done = 0; done < total; done += groupPoints) {
    await sendUploads(app, user, prepareUploads(Math.min(groupPoints, total - done), seedBase + done));
  }
  return total;
}

/** The ingest row: bodies prepared before the clock, then from the first upload until `count()` of the points table reaches them all. */
async function timedIngest(app: BenchApp, user: BenchUser, raw: ClickHouseClient, database: string): Promise<{ ingested: number; ingestPerSecond: number; pointsTable: string }> {
  const prepared = prepareUploads(INGEST_POINTS, 100);
  const startedAt = performance.now();
  await sendUploads(app, user, prepared);
  const pointsTable = await findTable(raw, database, '%point%');
  await waitForCount(raw, pointsTable, INGEST_POINTS, ms(600));
  return { ingested: INGEST_POINTS, ingestPerSecond: INGEST_POINTS / ((performance.now() - startedAt) / 1000), pointsTable };
}

async function waitForCount(raw: ClickHouseClient, table: string, atLeast: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await chCount(raw, table)) < atLeast) {
    if (Date.now() > deadline) throw new Error(`${table}: fewer than ${atLeast} rows after ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/**
 * The raw client inserting the app's points again, in RAW_BLOCK_ROWS-row JSONEachRow blocks, into a
 * copy of the table; rows per second. The rows live only in this call: the memory row that comes
 * later measures the app, not the bench's copy of its data.
 */
async function rawInsertRate(raw: ClickHouseClient, database: string, pointsTable: string): Promise<number> {
  const pointRows = await (await raw.query({ query: `SELECT * FROM ${pointsTable}`, format: 'JSONEachRow' })).json<Record<string, unknown>>();
  await raw.command({ query: `DROP TABLE IF EXISTS ${database}.bench_raw_points` });
  await raw.command({ query: `CREATE TABLE ${database}.bench_raw_points AS ${pointsTable}` });
  const rawStart = performance.now();
  for (let start = 0; start < pointRows.length; start += RAW_BLOCK_ROWS) {
    await raw.insert({ table: `${database}.bench_raw_points`, values: pointRows.slice(start, start + RAW_BLOCK_ROWS), format: 'JSONEachRow' });
  }
  const perSecond = pointRows.length / ((performance.now() - rawStart) / 1000);
  await raw.command({ query: `DROP TABLE ${database}.bench_raw_points` });
  return perSecond;
}

/**
 * This process's RSS in MB once it settled (bench/lib/system-idle.ts: at least `idleSeconds`, until it
 * stops moving), read after a gc(); its breakdown and the RSS trace go to the progress log.
 */
async function settledRssMb(app: BenchApp, at: string, idleSeconds: number): Promise<{ mb: number; seconds: number }> {
  const settled = await settledRss(idleSeconds, MEMORY_SETTLE_MAX_SECONDS);
  const snapshot = await memorySnapshot(app.analytics);
  log(`memory ${at}, after ${settled.seconds} s (${settled.majorGcs} major GCs meanwhile, none from the bench): ${describeMemory(snapshot)}; RSS each second ${settled.trace.map((b) => Math.round(b / 2 ** 20)).join(' ')} MB`);
  return { mb: snapshot.rss / 1024 / 1024, seconds: settled.seconds };
}

/**
 * Diagnostics for the log, after the memory row was read: what V8 would still give back if asked with
 * its strongest collection (the `gc` extension's last-resort flavour, several rounds with memory
 * reduction). The app never calls it; the row does not include it.
 */
async function logLastResortGc(app: BenchApp): Promise<void> {
  const collect = (globalThis as { gc?: (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void }).gc;
  if (!collect) return;
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  await new Promise((done) => setTimeout(done, 3000));
  log(`memory after a last-resort gc (diagnostic only, not the row): ${describeMemory(await memorySnapshot(app.analytics, { gc: false }))}`);
}

/** Runs the `arena` CLI on the app's data (the app stopped); returns wall seconds. */
async function arena(app: BenchApp, args: string[]): Promise<{ seconds: number; stdout: string; stderr: string }> {
  const startedAt = performance.now();
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...app.env }, maxBuffer: 64 * 1024 * 1024 });
  return { seconds: (performance.now() - startedAt) / 1000, stdout, stderr };
}

async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  const bus = BUS === 'kafka' ? 'Kafka bus' : 'in-process bus';
  const row = (r: Omit<BenchRow, 'bus'>) => rows.push({ ...r, bus });
  const kafkaBrokers = BUS === 'kafka' ? process.env.KAFKA_BROKERS : undefined;
  if (BUS === 'kafka' && !kafkaBrokers) throw new Error('BENCH_BUS=kafka needs KAFKA_BROKERS');
  const app = await startBenchApp({ ...(kafkaBrokers ? { kafkaBrokers } : {}) });
  const raw = chdbClient(join(app.dataDir, 'chdb'));
  const database = app.config.CLICKHOUSE_DATABASE;
  try {
    log(`app on ${app.url}`);
    const users = await registerUsers(app, COMMAND_CLIENTS);
    const driver = users[0]!;
    await call(app, 'GET', '/telemetry/sessions', undefined, driver.token);
    log(`GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}${allocatorTunablesSet() ? '' : ' (the allocator setting the app is deployed with is missing: the memory row measures glibc defaults)'}`);
    let rssAtStart = 0;
    if (ONLY_INGEST) {
      const { ingested } = await ingestRow(app, driver, raw, database, row);
      if (BUS === 'postgres') await overviewRow(app, driver, raw, database, ingested, row);
      return emitRows(rows);
    }
    if (BUS === 'postgres' && !ONLY_COMMANDS) {
      // The memory row's start: the same idle rule as its end (bench/lib/system-idle.ts).
      await waitForSystemIdle(app, ms(600));
      rssAtStart = (await settledRssMb(app, 'at start', IDLE_SECONDS)).mb;
      // A PostgreSQL backend that goes idle reports its transaction counts up to 10 s later
      // (PGSTAT_IDLE_INTERVAL): after 2 s of quiet, the window still counted the registrations'
      // commits (47 tx/s here, with statement logging showing only the bus's 1 s ticks). Wait them out.
      log(`quiet for ${PG_STATS_FLUSH_MS / 1000} s, then idle for ${IDLE_SECONDS} s`);
      await new Promise((done) => setTimeout(done, PG_STATS_FLUSH_MS));
      const cpu = process.cpuUsage();
      const threadsBefore = threadTicks();
      const idleCommits = await committedPerSecond(app.databaseUrl, BENCH_DATABASE, ms(IDLE_SECONDS));
      const idleCpu = process.cpuUsage(cpu);
      const busiest = busiestThreads(threadsBefore, threadTicks(), IDLE_SECONDS);
      log(`idle window, busiest threads: ${busiest.map((t) => `${t.name} ${t.percent.toFixed(1)} %`).join(', ') || 'none'}`);
      row({ measure: 'idle PostgreSQL transactions/s', value: round(idleCommits, 1), unit: 'tx/s', reference: '-', ratio: null, target: '≤ 5', met: idleCommits <= 5 });
      const cpuPercent = ((idleCpu.user + idleCpu.system) / 1e6 / IDLE_SECONDS) * 100;
      row({ measure: 'idle node CPU (app + bench process)', value: round(cpuPercent, 1), unit: '% of a core', reference: '-', ratio: null, target: '-', met: null });
    }
    // Commands at c=32, between two runs of the same server's raw transactions at c=32 (their mean is
    // the reference: a burst of load on a shared machine then moves both sides alike).
    const rawBefore = await measureRawPostgres(app.databaseUrl, COMMAND_CLIENTS, ms(SECONDS / 2));
    const created = checked('create session c=32', await runLoad({ baseUrl: app.url, requests: users.map(createSession), concurrency: COMMAND_CLIENTS, durationMs: ms(SECONDS) }));
    const updated = checked('update profile c=32', await runLoad({ baseUrl: app.url, requests: users.map(updateProfile), concurrency: COMMAND_CLIENTS, durationMs: ms(SECONDS) }));
    const rawAfter = await measureRawPostgres(app.databaseUrl, COMMAND_CLIENTS, ms(SECONDS / 2));
    const mean = (a: number, b: number) => (a + b) / 2;
    const rawPg = {
      append: { perSecond: mean(rawBefore.append.perSecond, rawAfter.append.perSecond) },
      plainInsert: { perSecond: mean(rawBefore.plainInsert.perSecond, rawAfter.plainInsert.perSecond) },
    };
    log(`raw append before/after: ${round(rawBefore.append.perSecond)}/${round(rawAfter.append.perSecond)} tx/s`);
    log(`raw append c=32: ${round(rawPg.append.perSecond)}/s, plain INSERT c=32: ${round(rawPg.plainInsert.perSecond)}/s`);
    for (const [name, result] of [
      ['create session', created],
      ['update profile', updated],
    ] as const) {
      row({
        measure: `command c=32 (${name}) / raw append tx`,
        value: round(result.perSecond, 1),
        unit: 'cmd/s',
        reference: `${round(rawPg.append.perSecond)} tx/s`,
        ratio: result.perSecond / rawPg.append.perSecond,
        target: '≥ 0.5',
        met: result.perSecond / rawPg.append.perSecond >= 0.5,
      });
      row({
        measure: `command c=32 (${name}) / plain INSERT`,
        value: round(result.perSecond, 1),
        unit: 'cmd/s',
        reference: `${round(rawPg.plainInsert.perSecond)} ins/s`,
        ratio: result.perSecond / rawPg.plainInsert.perSecond,
        target: '-',
        met: null,
      });
    }

    // One client: latency of a command, read-your-writes included (the routes wait for their read model).
    // Beside it, the mean time of one raw append transaction from one client at that moment: on a
    // loaded machine every round trip waits for a core, and that shows in both alike.
    const rawLone = await measureRawPostgres(app.databaseUrl, 1, ms(SECONDS / 4));
    const rawLoneMs = 1000 / rawLone.append.perSecond;
    log(`raw append c=1: ${round(rawLoneMs, 2)} ms per transaction`);
    for (const [name, request] of [
      ['create session', createSession(driver)],
      ['update profile', updateProfile(driver, 0)],
    ] as const) {
      const lone = checked(`${name} c=1`, await runLoad({ baseUrl: app.url, requests: [request], concurrency: 1, durationMs: ms(SECONDS / 2) }));
      row({
        measure: `command c=1 p50 (${name}), read-your-writes / raw append tx c=1`,
        value: round(lone.p50Ms, 1),
        unit: 'ms',
        reference: `${round(rawLoneMs, 2)} ms`,
        ratio: lone.p50Ms / rawLoneMs,
        target: '≤ 10 ms',
        met: lone.p50Ms <= 10,
      });
    }

    if (ONLY_COMMANDS) return emitRows(rows);

    const { ingested, pointsTable, rawInsertPerSecond } = await ingestRow(app, driver, raw, database, row);

    if (BUS === 'postgres') {
      // List endpoint and express hello world, both at c=16 with the same load generator. The list
      // starts once the ingest above has finished in the background (projections, chDB merges), as
      // hello world, run after it, always did: the list answering beside that tail measured the tail.
      await waitForSystemIdle(app, ms(600));
      const list = checked('list c=16', await runLoad({ baseUrl: app.url, requests: [{ method: 'GET', path: '/api/v1/telemetry/sessions', headers: { authorization: `Bearer ${driver.token}` } }], concurrency: READ_CLIENTS, durationMs: ms(SECONDS) }));
      const hello = await helloWorld();
      const helloLoad = checked('hello world c=16', await runLoad({ baseUrl: hello.url, requests: [{ method: 'GET', path: '/' }], concurrency: READ_CLIENTS, durationMs: ms(SECONDS) }));
      await hello.close();
      row({ measure: 'list endpoint c=16 / express hello world', value: round(list.perSecond), unit: 'req/s', reference: `${round(helloLoad.perSecond)} req/s`, ratio: list.perSecond / helloLoad.perSecond, target: '≥ 0.4', met: list.perSecond / helloLoad.perSecond >= 0.4 });

      await overviewRow(app, driver, raw, database, ingested, row);
      // Memory: ingest up to MEMORY_POINTS, let the system go idle, compare RSS.
      log(`ingesting up to ${MEMORY_POINTS.toLocaleString('en')} points for the memory row`);
      const more = await uploadPoints(app, driver, Math.max(0, MEMORY_POINTS - ingested), 10_000);
      await waitForCount(raw, pointsTable, ingested + more, ms(1800));
      await waitForSystemIdle(app, ms(1800));
      const { mb: rssAfter, seconds: idleFor } = await settledRssMb(app, 'idle after ingest', IDLE_SECONDS);
      await logLastResortGc(app);
      row({ measure: `RSS after ${(ingested + more).toLocaleString('en')} points, idle ${idleFor} s / at start`, value: round(rssAfter), unit: 'MB', reference: `${round(rssAtStart)} MB`, ratio: rssAfter / rssAtStart, target: '≤ 1.2', met: rssAfter / rssAtStart <= 1.2 });

      // Replays through the CLI on the same data, the app stopped.
      await raw.close();
      await app.stopApp();
      const readPass = await rawReadPass(app.databaseUrl);
      const replayAll = await arena(app, ['replay', 'all']);
      for (const replayRow of replayRows(readPass.events, readPass.perSecond, { ...replayTiming(replayAll.stderr), wallSeconds: replayAll.seconds })) row(replayRow);
      const chName = clickHouseReplayNames.find((name) => name.includes('telemetry')) ?? clickHouseReplayNames[0]!;
      const chReplay = await arena(app, ['replay', chName]);
      const chRowsPerSecond = (ingested + more) / chReplay.seconds;
      row({ measure: `ClickHouse replay (${chName}) / raw insert`, value: round(chRowsPerSecond), unit: 'rows/s', reference: `${round(rawInsertPerSecond)} rows/s`, ratio: chRowsPerSecond / rawInsertPerSecond, target: '≥ 0.7', met: chRowsPerSecond / rawInsertPerSecond >= 0.7 });
    }
  } finally {
    await raw.close().catch(() => undefined);
    await app.close();
  }
  emitRows(rows);
}

/** The ingest row: upload -> rows queryable in ClickHouse; then the raw client inserting the same rows. */
async function ingestRow(app: BenchApp, driver: BenchUser, raw: ClickHouseClient, database: string, row: (r: Omit<BenchRow, 'bus'>) => void): Promise<{ ingested: number; pointsTable: string; rawInsertPerSecond: number }> {
  log(`ingesting ${INGEST_POINTS.toLocaleString('en')} points`);
  const { ingested, ingestPerSecond, pointsTable } = await timedIngest(app, driver, raw, database);
  const rawInsertPerSecond = await rawInsertRate(raw, database, pointsTable);
  log(`ingest ${round(ingestPerSecond)} points/s; raw insert ${round(rawInsertPerSecond)} rows/s`);
  row({
    measure: 'telemetry ingest / raw chDB insert (50k-row blocks)',
    value: round(ingestPerSecond),
    unit: 'points/s',
    reference: `${round(rawInsertPerSecond)} rows/s`,
    ratio: ingestPerSecond / rawInsertPerSecond,
    target: '≥ 0.7',
    met: ingestPerSecond / rawInsertPerSecond >= 0.7,
  });
  return { ingested, pointsTable, rawInsertPerSecond };
}

/** Analytics overview on the ingested points at c=16, and the laps query it runs, straight on chDB. */
async function overviewRow(app: BenchApp, driver: BenchUser, raw: ClickHouseClient, database: string, ingested: number, row: (r: Omit<BenchRow, 'bus'>) => void): Promise<void> {
  const overview = checked('overview c=16', await runLoad({ baseUrl: app.url, requests: [{ method: 'GET', path: '/api/v1/analytics/performance/overview?period=all_time', headers: { authorization: `Bearer ${driver.token}` } }], concurrency: READ_CLIENTS, durationMs: ms(SECONDS) }));
  const lapsTable = await findTable(raw, database, '%lap%');
  const lapsSql = `SELECT * FROM ${lapsTable} FINAL WHERE user_id = {userId:UUID} ORDER BY ended_at, session_id, lap_number`;
  let direct = 0;
  const directStart = performance.now();
  await Promise.all(
    Array.from({ length: READ_CLIENTS }, async () => {
      while (performance.now() - directStart < ms(SECONDS)) {
        await (await raw.query({ query: lapsSql, query_params: { userId: driver.id }, format: 'JSONEachRow' })).json();
        direct += 1;
      }
    }),
  );
  const directPerSecond = direct / ((performance.now() - directStart) / 1000);
  row({ measure: `analytics overview (${ingested.toLocaleString('en')} points) c=16 / its SQL on chDB`, value: round(overview.perSecond, 1), unit: 'req/s', reference: `${round(directPerSecond, 1)} q/s`, ratio: overview.perSecond / directPerSecond, target: '≥ 0.8', met: overview.perSecond / directPerSecond >= 0.8 });
}

function emitRows(rows: readonly BenchRow[]): void {
  const out = process.env.BENCH_RESULT_FILE;
  if (out) writeFileSync(out, JSON.stringify(rows));
  else console.log(formatBenchTable(rows));
}

runBench(main);
