/**
 * Where one command's milliseconds go at one client (ad hoc, for profiling:
 * `ts-node --transpile-only bench/commands-stages.ts`; KAFKA_BROKERS set runs it on the Kafka bus).
 * Starts the app as bench/app-bench.ts does, then sends BENCH_COMMANDS (default 40) of each of
 * `POST /telemetry/sessions` and `PUT /users/me`, one after another, 150 ms apart (so the bus's
 * fan-out of one command has ended before the next starts), and prints, per command kind:
 *
 *   - the median time of each stage on the command's path, from the request's arrival at the
 *     server: the route's handler called (HTTP, auth, validation), state loaded (the first event
 *     store read or state-source load), appended (the append's commit), read-your-writes done
 *     (the own-write apply or the projection's announcement), answer written;
 *   - every statement the app's knex pool sent while the request ran and until 150 ms after it,
 *     with its median start and duration relative to the request's arrival: the command's own and
 *     what ran beside it (the relay, the bus's consumers, the projections' batches);
 *   - the event loop's busy time in that window (what else ran in the process).
 *
 * One sample request is also printed as a timeline.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Server } from 'node:http';
import { startBenchApp, type BenchApp } from './lib/bench-app';
import { runBench } from './lib/run-bench';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 40);
const GAP_MS = 150;

interface Mark {
  at: number;
  what: string;
  until?: number;
}

const median = (values: number[]): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(app: BenchApp, method: string, path: string, body: string, token?: string): Promise<{ status: number; text: string }> {
  const url = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `/api/v1${path}`,
        method,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The HTTP server the app listens on (bench-app does not expose it; it is the only one listening here). */
function findServer(): Server {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const server = handles.find((handle): handle is Server => handle instanceof http.Server && handle.listening);
  if (!server) throw new Error('no listening HTTP server in this process');
  return server;
}

async function main(): Promise<void> {
  const app = await startBenchApp({ ...(process.env.KAFKA_BROKERS ? { kafkaBrokers: process.env.KAFKA_BROKERS } : {}) });
  let marks: Mark[] = [];
  const mark = (what: string, at = performance.now(), until?: number) => marks.push({ at, what, ...(until !== undefined ? { until } : {}) });
  // Statements of the app's pool: start on 'query', end on 'query-response' / 'query-error'.
  const running = new Map<string, { at: number; sql: string }>();
  const db = app.services.db;
  const shortSql = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 100);
  db.on('query', (query: { __knexQueryUid: string; sql: string }) => running.set(query.__knexQueryUid, { at: performance.now(), sql: shortSql(query.sql) }));
  const ended = (_: unknown, query: { __knexQueryUid: string }) => {
    const started = running.get(query.__knexQueryUid);
    if (!started) return;
    running.delete(query.__knexQueryUid);
    mark(`sql ${started.sql}`, started.at, performance.now());
  };
  db.on('query-response', ended);
  db.on('query-error', ended);
  // The command's stages: the store's calls and the HTTP server's request and response.
  const store = app.services.store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of ['append', 'readStream']) {
    const original = store[name]!.bind(store);
    store[name] = async (...args: unknown[]) => {
      const at = performance.now();
      try {
        return await original(...args);
      } finally {
        mark(`store.${name}`, at, performance.now());
      }
    };
  }
  const server = findServer();
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    mark('http request');
    res.once('finish', () => mark('http answer written'));
  });
  // Event loop busy time (ELU) per window.
  try {
    const register = await send(app, 'POST', '/auth/register', JSON.stringify({ username: 'stages_user', email: 'stages@bench.io', password: 'BenchPass123' }));
    const token = (JSON.parse(register.text) as { access_token: string }).access_token;
    const kinds: Array<[string, string, string, (i: number) => string]> = [
      ['create session', 'POST', '/telemetry/sessions', () => JSON.stringify({ session_name: 'bench', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 })],
      ['update profile', 'PUT', '/users/me', (i) => JSON.stringify({ full_name: `Driver ${i}` })],
    ];
    for (const [name, method, path, body] of kinds) {
      const stages = new Map<string, number[]>();
      const statements = new Map<string, { starts: number[]; durations: number[]; count: number }>();
      const busy: number[] = [];
      const totals: number[] = [];
      let sample: Mark[] = [];
      for (let i = 0; i < COMMANDS + 5; i++) {
        await new Promise((done) => setTimeout(done, GAP_MS));
        marks = [];
        const elu = performance.eventLoopUtilization();
        const sentAt = performance.now();
        const answer = await send(app, method, path, body(i), token);
        const answeredAt = performance.now();
        await new Promise((done) => setTimeout(done, GAP_MS));
        const window = performance.eventLoopUtilization(elu);
        if (answer.status >= 300) throw new Error(`${name}: ${answer.status} ${answer.text}`);
        if (i < 5) continue; // warm-up
        const arrival = marks.find((m) => m.what === 'http request')?.at ?? sentAt;
        totals.push(answeredAt - sentAt);
        busy.push(window.active);
        const stage = (what: string, at: number) => {
          const list = stages.get(what) ?? [];
          list.push(at - arrival);
          stages.set(what, list);
        };
        stage('client sent', sentAt);
        const firstRead = marks.find((m) => m.what === 'store.readStream');
        if (firstRead) stage('first store read done', firstRead.until!);
        const append = marks.find((m) => m.what === 'store.append');
        if (append) {
          stage('append started', append.at);
          stage('append committed', append.until!);
        }
        const afterAppend = marks.filter((m) => m.what === 'store.readStream' && append && m.at >= append.until!);
        if (afterAppend[0]) stage('own-write read done', afterAppend[0].until!);
        const written = marks.find((m) => m.what === 'http answer written');
        if (written) stage('answer written', written.at);
        stage('client got answer', answeredAt);
        for (const m of marks) {
          if (!m.what.startsWith('sql ')) continue;
          const entry = statements.get(m.what) ?? { starts: [], durations: [], count: 0 };
          entry.starts.push(m.at - arrival);
          entry.durations.push(m.until! - m.at);
          entry.count++;
          statements.set(m.what, entry);
        }
        if (i === COMMANDS + 4) sample = marks.map((m) => ({ ...m, at: m.at - arrival, ...(m.until !== undefined ? { until: m.until - arrival } : {}) }));
      }
      console.log(`\n== ${name}, c=1, ${COMMANDS} commands: client round trip p50 ${median(totals).toFixed(2)} ms; event loop busy ${median(busy).toFixed(1)} ms per command window (p50)`);
      console.log('stage (ms from the request reaching the server, p50):');
      for (const [what, values] of stages) console.log(`  ${median(values).toFixed(2).padStart(8)}  ${what}`);
      console.log('statements in the window (per command; p50 start and duration, ms):');
      for (const [sql, entry] of [...statements].sort((a, b) => median(a[1].starts) - median(b[1].starts))) {
        console.log(`  ${(entry.count / COMMANDS).toFixed(2).padStart(5)} × start ${median(entry.starts).toFixed(2).padStart(7)}  dur ${median(entry.durations).toFixed(2).padStart(6)}  ${sql.slice(4)}`);
      }
      console.log('one request as a timeline (ms):');
      for (const m of sample.sort((a, b) => a.at - b.at)) {
        console.log(`  ${m.at.toFixed(2).padStart(8)}${m.until !== undefined ? ` → ${m.until.toFixed(2).padStart(8)}` : ''.padStart(11)}  ${m.what}`);
      }
    }
  } finally {
    agent.destroy();
    await app.close();
  }
}

runBench(main);
