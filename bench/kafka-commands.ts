/**
 * What a small command costs on the Kafka bus, by party (ad hoc, for profiling:
 * `KAFKA_BROKERS=127.0.0.1:19092 ts-node --transpile-only bench/kafka-commands.ts`; add
 * `node --cpu-prof -r ts-node/register/transpile-only` for a CPU profile of the app).
 * Starts the app on Kafka as bench/app-bench.ts does, then runs `POST /telemetry/sessions` and
 * `PUT /users/me` at c=1 (one after another, no gap, as the c=1 row does) and at c=32 for
 * BENCH_SECONDS (default 5) each, and prints per command:
 *
 *   - first, idle for BENCH_IDLE_SECONDS (default 10): the same figures per second with no client;
 *   - Kafka requests this process sent, by API (Produce, Fetch, OffsetCommit, Heartbeat, ...),
 *     counted on kafkajs' Connection.send;
 *   - CPU of this process's main thread (the app; the load generator runs in a worker thread),
 *     of the whole process, of the broker (the JVM listening on KAFKA_BROKERS' port, from /proc)
 *     and of the PostgreSQL server's processes.
 *
 * The same run with BENCH_BUS_MODE=postgres (no KAFKA_BROKERS needed) prints the in-process bus's
 * figures for comparison (no Kafka requests, no broker).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBenchApp, type BenchApp } from './lib/bench-app';
import { runLoad, type LoadRequest } from './lib/http-load';
import { runBench } from './lib/run-bench';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ON_KAFKA = process.env.BENCH_BUS_MODE !== 'postgres' && process.env.KAFKA_BROKERS !== undefined;
const CONCURRENCIES = (process.env.BENCH_CONCURRENCIES ?? '1,32').split(',').filter(Boolean).map(Number);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);

interface KafkaConnection {
  send(args: { request: { apiName: string } }): Promise<unknown>;
}

/** Kafka requests sent by this process, by API name. */
const requests = new Map<string, number>();
function countKafkaRequests(): void {
  // kafkajs' internal connection class: every request of every client goes through send().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Connection = require('kafkajs/src/network/connection') as { prototype: KafkaConnection };
  const send = Connection.prototype.send;
  Connection.prototype.send = function (this: KafkaConnection, args) {
    requests.set(args.request.apiName, (requests.get(args.request.apiName) ?? 0) + 1);
    return send.call(this, args);
  };
}

function statTicks(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** utime + stime (10 ms ticks) of `parent` and its children. */
function treeTicks(parent: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) === parent || ppid === parent) ticks += statTicks(`/proc/${entry}/stat`);
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/** The broker's JVM: the kafka.Kafka process (there is one shared broker here). */
function brokerPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('kafka.Kafka')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

async function register(app: BenchApp, i: number): Promise<string> {
  const response = await fetch(`${app.url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: `kafka_user_${i}`, email: `kafka${i}@bench.io`, password: 'BenchPass123' }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function main(): Promise<void> {
  if (ON_KAFKA) countKafkaRequests();
  const app = await startBenchApp(ON_KAFKA ? { kafkaBrokers: process.env.KAFKA_BROKERS! } : {});
  const postmaster = Number(readFileSync(join(app.dataDir, '..', 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const broker = ON_KAFKA ? brokerPid() : undefined;
  try {
    const tokens = await Promise.all(Array.from({ length: 32 }, (_, i) => register(app, i)));
    const body = JSON.stringify({ session_name: 'bench', track_name: 'Generated Ring', car_model: 'GT3', track_length_m: 4568.45 });
    const kinds: Array<[string, (token: string, i: number) => LoadRequest]> = [
      ['create session', (token) => ({ method: 'POST', path: '/api/v1/telemetry/sessions', headers: { authorization: `Bearer ${token}` }, body })],
      ['update profile', (token, i) => ({ method: 'PUT', path: '/api/v1/users/me', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ full_name: `Driver ${i}` }) })],
    ];
    console.log(`bus: ${ON_KAFKA ? `Kafka (broker pid ${broker ?? 'not found'})` : 'in-process'}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    // Idle first: what the process and the broker spend per second with no client.
    await new Promise((done) => setTimeout(done, 3000));
    requests.clear();
    const idleMain = statTicks(`/proc/self/task/${process.pid}/stat`);
    const idleNode = process.cpuUsage();
    const idleBroker = broker ? statTicks(`/proc/${broker}/stat`) : 0;
    await new Promise((done) => setTimeout(done, IDLE_SECONDS * 1000));
    const perSecond = (ticks: number) => ((ticks * 10) / IDLE_SECONDS).toFixed(1);
    const idleCpu = process.cpuUsage(idleNode);
    console.log(
      `idle ${IDLE_SECONDS} s, CPU ms/s: node main thread ${perSecond(statTicks(`/proc/self/task/${process.pid}/stat`) - idleMain)}, ` +
        `node process ${((idleCpu.user + idleCpu.system) / 1000 / IDLE_SECONDS).toFixed(1)}` +
        (broker ? `, broker ${perSecond(statTicks(`/proc/${broker}/stat`) - idleBroker)} (shared: other clients' too)` : '') +
        (ON_KAFKA ? `; Kafka requests/s ${([...requests.values()].reduce((a, b) => a + b, 0) / IDLE_SECONDS).toFixed(1)}` : ''),
    );
    for (const concurrency of CONCURRENCIES) {
      for (const [name, request] of kinds) {
        await new Promise((done) => setTimeout(done, 1500)); // the previous run's tail (commits, fetches) ends
        requests.clear();
        const mainBefore = statTicks(`/proc/self/task/${process.pid}/stat`);
        const nodeBefore = process.cpuUsage();
        const pgBefore = treeTicks(postmaster);
        const brokerBefore = broker ? statTicks(`/proc/${broker}/stat`) : 0;
        const load = await runLoad({
          baseUrl: app.url,
          requests: tokens.slice(0, concurrency).map((token, i) => request(token, i)),
          concurrency,
          durationMs: SECONDS * 1000,
        });
        await new Promise((done) => setTimeout(done, 300)); // the fan-out of the last commands
        const n = load.requests;
        const node = process.cpuUsage(nodeBefore);
        const perCmd = (ticks: number) => ((ticks * 10) / n).toFixed(2);
        console.log(
          `\n== ${name} c=${concurrency}: ${n} commands, ${load.perSecond.toFixed(1)}/s, p50 ${load.p50Ms.toFixed(2)} ms, ${load.errors} errors`,
        );
        console.log(
          `CPU ms/cmd: node main thread ${perCmd(statTicks(`/proc/self/task/${process.pid}/stat`) - mainBefore)}, ` +
            `node process ${((node.user + node.system) / 1000 / n).toFixed(2)}, ` +
            `PostgreSQL ${perCmd(treeTicks(postmaster) - pgBefore)}` +
            (broker ? `, broker ${perCmd(statTicks(`/proc/${broker}/stat`) - brokerBefore)}` : ''),
        );
        if (ON_KAFKA) {
          const total = [...requests.values()].reduce((a, b) => a + b, 0);
          const byApi = [...requests].sort((a, b) => b[1] - a[1]).map(([api, count]) => `${api} ${(count / n).toFixed(2)}`);
          console.log(`Kafka requests/cmd: ${(total / n).toFixed(2)} (${byApi.join(', ')})`);
        }
      }
    }
  } finally {
    await app.close();
  }
}

runBench(main);
