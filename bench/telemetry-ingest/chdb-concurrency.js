// Ad hoc measurement (i9-telemetry): does chDB run two queries at once inside one process?
// node bench/telemetry-ingest/chdb-concurrency.js
const { createClient } = require('@clickhouse/client');
const { createChdbConnection } = require('chdb/connection');
const { Session } = require('chdb');
const path = `/tmp/chdb-concurrency-${process.pid}`;
const conn = createChdbConnection({ path });
const client = createClient({ connection: conn });
const N = Number(process.env.SLOW_ROWS ?? 60_000_000);
(async () => {
  const slowSql = `SELECT sum(sipHash64(number)) AS s FROM numbers(${N})`;
  const json = async (c, q) => (await c.query({ query: q, format: 'JSONEachRow' })).json();
  let t = Date.now(); await json(client, slowSql); console.log('slow query alone (ms)', Date.now() - t);
  t = Date.now(); await json(client, 'SELECT 1 AS x'); console.log('SELECT 1 alone (ms)', Date.now() - t);
  t = Date.now();
  let slow = json(client, slowSql).then(() => console.log('  slow done at', Date.now() - t));
  await new Promise((r) => setTimeout(r, 50));
  let f = Date.now(); await json(client, 'SELECT 1 AS x'); console.log('same session: SELECT 1 during slow took', Date.now() - f);
  await slow;
  const other = new Session(path);
  t = Date.now();
  slow = json(client, slowSql).then(() => console.log('  slow done at', Date.now() - t));
  await new Promise((r) => setTimeout(r, 50));
  f = Date.now(); await other.queryAsync('SELECT 1 AS x', { format: 'JSONEachRow' }); console.log('second session: SELECT 1 during slow took', Date.now() - f);
  await slow;
  t = Date.now();
  await Promise.all([json(client, slowSql), other.queryAsync(slowSql, { format: 'JSONEachRow' })]);
  console.log('two slow queries on two sessions at once (ms)', Date.now() - t);
  other.close();
  await client.close();
  require('fs').rmSync(path, { recursive: true, force: true });
})().catch((e) => { console.error(e); process.exit(1); });
