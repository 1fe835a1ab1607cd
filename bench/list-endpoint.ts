/**
 * `npm run bench:list`: the list-endpoint row of the app table on its own, so it can be profiled
 * (`node --cpu-prof -r ts-node/register/transpile-only bench/list-endpoint.ts`). The whole system
 * starts as in bench/app-bench.ts (in-process bus); one user owns BENCH_LIST_SESSIONS sessions
 * (default 60, about what the app table's driver owns when it reaches this row), then
 * `GET /telemetry/sessions` (a page of 50 with its total) and an express "hello world" run at c=16
 * with the same load generator, one after the other, BENCH_SECONDS each (default 5).
 */
import { startBenchApp } from './lib/bench-app';
import { startCpuProfile } from './lib/inspector-profiles';
import { cpuMsOf, descendantsCpuMs } from './lib/process-cpu';
import { runLoad } from './lib/http-load';
import { helloWorld } from './lib/hello-world';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SESSIONS = Number(process.env.BENCH_LIST_SESSIONS ?? 60);
const CLIENTS = 16;
/** BENCH_LIST_ROUNDS=n: list then hello world n times, one line each (on a shared machine, interleaved runs say more than one). */
const ROUNDS = Number(process.env.BENCH_LIST_ROUNDS ?? 1);

/**
 * CPU time by who spent it: this process's main thread (the app and hello world), its other
 * threads (the load generator's worker, libuv's pool, V8's helpers) and the processes below it
 * (PostgreSQL). On a shared machine the main thread's share moves far less than requests per
 * second; on a quiet one the three together, on 2 cores, bound what the endpoint can answer.
 */
function cpuMs(): { main: number; otherThreads: number; postgres: number } {
  const main = cpuMsOf(`/proc/self/task/${process.pid}/stat`);
  return { main, otherThreads: cpuMsOf('/proc/self/stat') - main, postgres: descendantsCpuMs() };
}

interface CpuPerRequest {
  cpuUsPerRequest: number;
  otherThreadsUsPerRequest: number;
  postgresUsPerRequest: number;
}

async function measured<T extends { requests: number }>(load: () => Promise<T>): Promise<T & CpuPerRequest> {
  const before = cpuMs();
  const result = await load();
  const after = cpuMs();
  const perRequest = (ms: number): number => (ms * 1000) / Math.max(1, result.requests);
  return {
    ...result,
    cpuUsPerRequest: perRequest(after.main - before.main),
    otherThreadsUsPerRequest: perRequest(after.otherThreads - before.otherThreads),
    postgresUsPerRequest: perRequest(after.postgres - before.postgres),
  };
}

/**
 * BENCH_CPU_PROFILE=<prefix>: the main thread's CPU profile of each load window alone
 * (`<prefix>-list.cpuprofile`, `<prefix>-hello.cpuprofile`; open them in Chrome's DevTools),
 * without the start-up and the sessions' creation that a whole-process `--cpu-prof` also holds.
 */
async function profiled<T>(name: string, load: () => Promise<T>): Promise<T> {
  const prefix = process.env.BENCH_CPU_PROFILE;
  if (prefix === undefined || prefix === '') return load();
  const profile = await startCpuProfile(`${prefix}-${name}.cpuprofile`);
  try {
    return await load();
  } finally {
    await profile.stop();
  }
}

async function call(url: string, method: string, path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
  return answer;
}

async function main(): Promise<void> {
  const app = await startBenchApp({});
  try {
    const registered = await call(app.url, 'POST', '/auth/register', { username: 'list_bench', email: 'list@bench.io', password: 'BenchPass123' });
    const token = String(registered.access_token);
    for (let i = 0; i < SESSIONS; i++) {
      await call(app.url, 'POST', '/telemetry/sessions', { session_name: `bench ${i}`, track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 }, token);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const listRequest = { method: 'GET', path: '/api/v1/telemetry/sessions', headers: { authorization: `Bearer ${token}` } } as const;
      const list = await measured(() =>
        profiled(`list${round}`, () => runLoad({ baseUrl: app.url, requests: [listRequest], concurrency: CLIENTS, durationMs: SECONDS * 1000 })),
      );
      const hello = await helloWorld();
      const helloLoad = await measured(() =>
        profiled(`hello${round}`, () => runLoad({ baseUrl: hello.url, requests: [{ method: 'GET', path: '/' }], concurrency: CLIENTS, durationMs: SECONDS * 1000 })),
      );
      await hello.close();
      const ratio = list.perSecond / helloLoad.perSecond;
      console.log(
        `list endpoint c=${CLIENTS} (${SESSIONS} sessions, page of 50): ${list.perSecond.toFixed(0)} req/s (p50 ${list.p50Ms.toFixed(1)} ms, ${list.errors} errors); ` +
          `hello world ${helloLoad.perSecond.toFixed(0)} req/s; ratio ${ratio.toFixed(3)} (target ≥ 0.4). ` +
          `Main-thread CPU per request: list ${list.cpuUsPerRequest.toFixed(0)} µs, hello world ${helloLoad.cpuUsPerRequest.toFixed(0)} µs ` +
          `(hello / list ${(helloLoad.cpuUsPerRequest / list.cpuUsPerRequest).toFixed(3)}); ` +
          `other threads (load generator) list ${list.otherThreadsUsPerRequest.toFixed(0)} µs, hello world ${helloLoad.otherThreadsUsPerRequest.toFixed(0)} µs; ` +
          `PostgreSQL list ${list.postgresUsPerRequest.toFixed(0)} µs, hello world ${helloLoad.postgresUsPerRequest.toFixed(0)} µs`,
      );
    }
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
