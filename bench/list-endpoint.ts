/**
 * `npm run bench:list`: the list-endpoint row of the app table on its own, so it can be profiled
 * (`node --cpu-prof -r ts-node/register/transpile-only bench/list-endpoint.ts`). The whole system
 * starts as in bench/app-bench.ts (in-process bus); one user owns BENCH_LIST_SESSIONS sessions
 * (default 60, about what the app table's driver owns when it reaches this row), then
 * `GET /telemetry/sessions` (a page of 50 with its total) and an express "hello world" run at c=16
 * with the same load generator, one after the other, BENCH_SECONDS each (default 5).
 */
import { readFileSync } from 'node:fs';
import { startBenchApp } from './lib/bench-app';
import { runLoad } from './lib/http-load';
import { helloWorld } from './lib/hello-world';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SESSIONS = Number(process.env.BENCH_LIST_SESSIONS ?? 60);
const CLIENTS = 16;

/**
 * CPU time of this process's main thread (the app and hello world; the load generator runs in a
 * worker thread), from /proc: on a shared machine this moves far less than requests per second.
 */
function mainThreadCpuMs(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

async function measured<T extends { requests: number }>(load: () => Promise<T>): Promise<T & { cpuUsPerRequest: number }> {
  const before = mainThreadCpuMs();
  const result = await load();
  return { ...result, cpuUsPerRequest: ((mainThreadCpuMs() - before) * 1000) / Math.max(1, result.requests) };
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
    const list = await measured(() =>
      runLoad({
        baseUrl: app.url,
        requests: [{ method: 'GET', path: '/api/v1/telemetry/sessions', headers: { authorization: `Bearer ${token}` } }],
        concurrency: CLIENTS,
        durationMs: SECONDS * 1000,
      }),
    );
    const hello = await helloWorld();
    const helloLoad = await measured(() => runLoad({ baseUrl: hello.url, requests: [{ method: 'GET', path: '/' }], concurrency: CLIENTS, durationMs: SECONDS * 1000 }));
    await hello.close();
    const ratio = list.perSecond / helloLoad.perSecond;
    console.log(
      `list endpoint c=${CLIENTS} (${SESSIONS} sessions, page of 50): ${list.perSecond.toFixed(0)} req/s (p50 ${list.p50Ms.toFixed(1)} ms, ${list.errors} errors); ` +
        `hello world ${helloLoad.perSecond.toFixed(0)} req/s; ratio ${ratio.toFixed(3)} (target ≥ 0.4). ` +
        `Main-thread CPU per request: list ${list.cpuUsPerRequest.toFixed(0)} µs, hello world ${helloLoad.cpuUsPerRequest.toFixed(0)} µs ` +
        `(hello / list ${(helloLoad.cpuUsPerRequest / list.cpuUsPerRequest).toFixed(3)})`,
    );
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
