import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { Kafka, logLevel } from 'kafkajs';
import { generateSession } from '../fixtures/telemetry/trace-generator';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { describeWithEngine } from '../support/engines';
import { freePort } from '../support/free-port';
import { createTestDatabase } from '../support/postgres';
import { createSession, registerDriver } from '../support/racing';
import { http } from '../support/test-system';
import { connectWebSocket } from '../support/ws-client';
import { consumerGroupMembers, eventually, WriteLoad } from './kafka-load-support';

const brokers = process.env.KAFKA_BROKERS ?? '';
const WORKER_ROLES = ['relay', 'projections', 'analytics-projections', 'builds', 'matches', 'elo', 'matchmaker', 'training'] as const;

/**
 * Issue 12 §6 / issue 13: the documented split topology on one machine. The real Kafka broker,
 * one PostgreSQL used as an external DATABASE_URL, two `arena serve` processes, and each worker
 * role as a process of its own. Each process has its own DATA_DIR, as on separate machines.
 */
describeWithEngine('kafka', brokers !== '', 'KAFKA_BROKERS not set')('the split topology: two API processes and one process per worker role', () => {
  const topicPrefix = `split${Date.now().toString(36)}.`;
  const processes: CliProcess[] = [];
  let env: Record<string, string>;
  let db: Knex;
  let apiA: string;
  let apiB: string;
  const workers = new Map<string, CliProcess>();

  const spawnRole = (args: string[], extra: Record<string, string> = {}): CliProcess => {
    const cli = runCli(args, { ...env, DATA_DIR: mkdtempSync(join(tmpdir(), `arena-split-${args.join('-')}-`)), ...extra });
    processes.push(cli);
    return cli;
  };
  const startWorker = async (role: string): Promise<CliProcess> => {
    const worker = spawnRole(['worker', role]);
    await eventually(`worker ${role} started`, async () => {
      if (worker.child.exitCode !== null) throw new Error(`worker ${role} exited (${worker.child.exitCode}):\n${worker.output()}`);
      return worker.output().includes('worker started');
    }, 180_000, 250).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${worker.output().slice(-3000)}`);
    });
    return worker;
  };
  const startApi = async (): Promise<string> => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await waitForReady(url, spawnRole(['serve'], { PORT: String(port) }), 180_000);
    return url;
  };

  beforeAll(async () => {
    ensureBuilt();
    const databaseUrl = await createTestDatabase('split_topology');
    db = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 2 } });
    env = {
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: brokers,
      TOPIC_PREFIX: topicPrefix,
      JWT_SECRET: 'split-topology-test-secret-0123456789abcdef',
      LOG_LEVEL: 'info',
      RATE_LIMIT_ENABLED: 'false',
      ARENA_MATCHMAKER_INTERVAL_SEC: '3600',
    };
    const migrate = spawnRole(['migrate']);
    expect(await migrate.exited).toBe(0);
    for (const role of WORKER_ROLES) workers.set(role, await startWorker(role));
    [apiA, apiB] = [await startApi(), await startApi()];
  }, 900_000);

  afterAll(async () => {
    for (const cli of processes) if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
    await Promise.all(processes.map((cli) => cli.exited));
    await db?.destroy();
  }, 120_000);

  it('pushes to a WebSocket client on API process A the events caused through API process B', async () => {
    const driver = await registerDriver(apiB, 'split_ws');
    const sessionId = await createSession(apiB, driver);
    const subscriber = await connectWebSocket(`${apiA.replace('http', 'ws')}/ws/telemetry?token=${driver.token}`);
    try {
      subscriber.ws.send(JSON.stringify({ type: 'subscribe', session_id: sessionId }));
      await subscriber.next((m) => m.type === 'subscribed');
      const points = generateSession({ seed: 13, laps: 1, hz: 20 }).points.slice(0, 40);
      const upload = await http(apiB, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, { token: driver.token, body: { data_points: points, batch_id: 'split-1' } });
      expect(upload.status).toBe(201);
      await eventually('every point on the socket of process A', async () => subscriber.messages.filter((m) => m.type === 'telemetry_data').length >= points.length, 60_000);
      expect(subscriber.messages.filter((m) => m.type === 'telemetry_data')).toHaveLength(points.length);
    } finally {
      subscriber.ws.close();
    }
  }, 120_000);

  it('lets a second projections process take over after a SIGKILL under load, and converges with nothing lost or duplicated', async () => {
    const load = new WriteLoad([apiA, apiB]);
    load.start();
    let takeoverMs = 0;
    try {
      await eventually('first writes', async () => load.acknowledged.length >= 5, 60_000);
      const second = await startWorker('projections');
      const usersGroup = `${topicPrefix}projection.users`;
      await eventually('both projections processes in the group', async () => (await consumerGroupMembers(brokers, topicPrefix))[usersGroup] === 2, 120_000, 500);

      const first = workers.get('projections')!;
      first.child.kill('SIGKILL');
      const killedAt = Date.now();
      await first.exited;
      // The broker evicts the dead member after the session timeout and the survivor takes its
      // partitions: measured from the kill until the group has one member left.
      const evicted = eventually('the dead member evicted', async () => (await consumerGroupMembers(brokers, topicPrefix))[usersGroup] === 1, 120_000, 250).then(
        () => Date.now() - killedAt,
      );
      // Probe users written right after the kill, at once, on different keys (so on different
      // partitions): the read models moved again once every one of them is projected.
      const probes = (await Promise.all(Array.from({ length: 6 }, (_, i) => registerDriver(i % 2 === 0 ? apiA : apiB, `probe${i}`)))).map((driver) => driver.id);
      const probesWrittenMs = Date.now() - killedAt;
      await eventually(
        'every probe user projected by the surviving projections process',
        async () => Number((await db('users').whereIn('id', probes).count<{ count: string }[]>({ count: '*' }))[0]!.count) === probes.length,
        120_000,
        100,
      );
      takeoverMs = Date.now() - killedAt;
      process.stdout.write(
        `projections takeover after SIGKILL: dead member evicted after ${await evicted} ms; probes acknowledged after ` +
          `${probesWrittenMs} ms; read models moving again (every probe projected) ${takeoverMs} ms after the kill\n`,
      );
      expect(second.child.exitCode).toBeNull();
      workers.set('projections', second);
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // more load on the survivor
    } finally {
      await load.stop();
    }
    await expectConverged(load);
  }, 600_000);

  it('resumes the relay from its checkpoint after a SIGKILL', async () => {
    const load = new WriteLoad([apiA, apiB], 1);
    load.start();
    try {
      await eventually('writes before the kill', async () => load.acknowledged.length >= 3, 60_000);
      const relay = workers.get('relay')!;
      relay.child.kill('SIGKILL');
      await relay.exited;
      const checkpointAtKill = await relayCheckpoint();
      const writtenBefore = load.acknowledged.length;
      await eventually('writes while the relay is down', async () => load.acknowledged.length >= writtenBefore + 3, 60_000);
      workers.set('relay', await startWorker('relay'));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const checkpointAfter = await relayCheckpoint();
      // It went on from where it was, not from the start of the log.
      expect(BigInt(checkpointAfter)).toBeGreaterThanOrEqual(BigInt(checkpointAtKill));
    } finally {
      await load.stop();
    }
    await expectConverged(load);
    // Republished from the checkpoint, not from the beginning: the user topic holds each user event
    // once, plus at most one relay batch (500) published again after the kill.
    const userEvents = Number((await db.raw<{ rows: { count: string }[] }>(`SELECT count(*) FROM eventstore.events WHERE stream_id LIKE 'user-%'`)).rows[0]!.count);
    const published = await topicMessageCount(`${topicPrefix}user`);
    expect(published).toBeGreaterThanOrEqual(userEvents);
    expect(published - userEvents).toBeLessThanOrEqual(500);
  }, 600_000);

  it('runs no role of a shared deployment that would hold chDB: only analytics-projections serves analytics', async () => {
    const driver = await registerDriver(apiA, 'split_analytics');
    const response = await http(apiA, 'GET', '/api/v1/analytics/performance/overview', { token: driver.token });
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { reason: 'analytics_not_served_here' } });
    const ready = await http(apiA, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect((ready.body.checks as Record<string, string>).analytics).toBe('not_served_here');
    for (const [role, worker] of workers) expect([role, worker.child.exitCode]).toEqual([role, null]);
  }, 60_000);

  async function expectConverged(load: WriteLoad): Promise<void> {
    const userIds = load.acknowledged.map((write) => write.userId);
    const agentIds = load.acknowledged.flatMap((write) => (write.agentId ? [write.agentId] : []));
    await eventually(
      'every acknowledged write in the read models',
      async () => {
        const users = Number((await db('users').whereIn('id', userIds).count<{ count: string }[]>({ count: '*' }))[0]!.count);
        const agents = Number((await db('agents').whereIn('id', agentIds).count<{ count: string }[]>({ count: '*' }))[0]!.count);
        return users === userIds.length && agents === agentIds.length;
      },
      180_000,
      500,
    );
    // Nothing applied twice or beyond the store: no applied revision ahead of its stream, and no
    // user with two agent rows (each load user created one agent).
    const behind = await db.raw<{ rows: unknown[] }>(
      `SELECT r.stream_id FROM projection_revisions r JOIN eventstore.streams s ON s.stream_id = r.stream_id
       WHERE r.projection IN ('users', 'arena_agents') AND r.revision > s.current_revision`,
    );
    expect(behind.rows).toEqual([]);
    const perOwner = await db('agents').whereIn('user_id', userIds).groupBy('user_id').havingRaw('count(*) > 1').select('user_id');
    expect(perOwner).toEqual([]);
  }

  async function relayCheckpoint(): Promise<string> {
    const row = await db('relay_checkpoints').first<{ position: string } | undefined>();
    const position = row?.position ?? '0';
    // "commit:prepare"; on PostgreSQL the commit part (the writing transaction) is what the relay reads in order.
    return position.split(':')[0] ?? '0';
  }

  async function topicMessageCount(topic: string): Promise<number> {
    const admin = new Kafka({ clientId: 'split-test', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  }
});
