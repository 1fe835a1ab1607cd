/**
 * An HTTP load generator in the spirit of autocannon: `concurrency` clients, each on its own
 * keep-alive connection, send one request after another for a fixed time. It runs in a worker
 * thread so that an app started in the same process keeps its event loop to itself.
 */
import { Worker } from 'node:worker_threads';

export interface LoadRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface LoadOptions {
  readonly baseUrl: string;
  /** Client i sends requests[i % requests.length] again and again (e.g. one request per user). */
  readonly requests: readonly LoadRequest[];
  readonly concurrency: number;
  readonly durationMs: number;
  /** Statuses counted as success; others are errors (default: 2xx). */
  readonly okStatuses?: readonly number[];
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  /** The first error seen, to tell a broken setup from a slow one. */
  readonly firstError: string | null;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU the load generator's own thread used during the run (Linux: /proc/thread-self/stat; NaN elsewhere). */
  readonly threadCpuMs: number;
}

// Plain JavaScript: runs in the worker as is (eval), without ts-node.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { baseUrl, requests, concurrency, durationMs, okStatuses } = workerData;
const url = new URL(baseUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const latencies = [];
let errors = 0;
let firstError = null;
const send = (request) => new Promise((resolve) => {
  const startedAt = performance.now();
  const req = http.request({ host: url.hostname, port: url.port, path: request.path, method: request.method, agent,
    headers: { ...(request.headers || {}), ...(request.body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.body) } : {}) } },
    (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const ok = okStatuses ? okStatuses.includes(res.statusCode) : res.statusCode >= 200 && res.statusCode < 300;
        if (ok) latencies.push(performance.now() - startedAt);
        else { errors += 1; if (firstError === null) firstError = res.statusCode + ' ' + Buffer.concat(chunks).toString('utf8').slice(0, 300); }
        resolve();
      });
    });
  req.on('error', (error) => { errors += 1; if (firstError === null) firstError = String(error); resolve(); });
  if (request.body !== undefined) req.write(request.body);
  req.end();
});
const threadTicks = () => {
  try {
    const stat = require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch { return NaN; }
};
(async () => {
  const ticksAtStart = threadTicks();
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async (_, client) => {
    const request = requests[client % requests.length];
    while (performance.now() < deadline) await send(request);
  }));
  const elapsedMs = performance.now() - startedAt;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  parentPort.postMessage({ requests: latencies.length, errors, firstError, perSecond: latencies.length / (elapsedMs / 1000), p50Ms: at(0.5), p99Ms: at(0.99), threadCpuMs: (threadTicks() - ticksAtStart) * 10 });
})();
`;

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...options, okStatuses: options.okStatuses ?? null } });
    worker.once('message', (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
