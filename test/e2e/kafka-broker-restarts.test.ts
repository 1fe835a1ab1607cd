import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { ensureBuilt, runCli, waitForReady, type CliProcess } from '../support/cli-process';
import { describeWithEngine } from '../support/engines';
import { freePort } from '../support/free-port';
import { kafkaJarsPresent, KAFKA_LIBS_DIR, OwnKafkaBroker } from '../support/own-kafka-broker';
import { createTestDatabase } from '../support/postgres';
import { consumerGroupMembers, eventually, readyzStatus, StopWaiting, WriteLoad } from './kafka-load-support';

/**
 * Issue 13: `arena start` on a Kafka broker of its own, under a steady write load, through five
 * clean broker restarts and two SIGKILLs. After each: /readyz was 503 while the broker was down
 * and is 200 again, every consumer group has its members back, and the process is still running.
 * At the end every acknowledged write is in the read models.
 */
describeWithEngine('kafka', kafkaJarsPresent(), `Kafka jars not found in ${KAFKA_LIBS_DIR} (set KAFKA_HOME_DIR or run deploy/kafka/kafka.sh fetch)`)(
  'arena on a Kafka broker that restarts and crashes',
  () => {
    let broker: OwnKafkaBroker;
    let arena: CliProcess;
    let db: Knex;
    let url: string;
    const topicPrefix = `restarts${Date.now().toString(36)}.`;

    beforeAll(async () => {
      ensureBuilt();
      const brokerStartedAt = Date.now();
      broker = await OwnKafkaBroker.start();
      process.stdout.write(`own broker started in ${Date.now() - brokerStartedAt} ms\n`);
      const databaseUrl = await createTestDatabase('broker_restarts');
      db = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 2 } });
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      arena = runCli(['start'], {
        DATA_DIR: mkdtempSync(join(tmpdir(), 'arena-restarts-')),
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        KAFKA_BROKERS: broker.brokers,
        TOPIC_PREFIX: topicPrefix,
        JWT_SECRET: 'broker-restart-test-secret-0123456789abcdef',
        LOG_LEVEL: 'error',
        RATE_LIMIT_ENABLED: 'false',
        ARENA_MATCHMAKER_INTERVAL_SEC: '3600',
        // On a loaded CI machine a broker restart can take minutes; the default bound (120 s) would
        // rightly make arena exit. This test is about healing, so the bound is generous here.
        BUS_CONSUMER_RECOVERY_TIMEOUT_SEC: '900',
      });
      const startedAt = Date.now();
      await waitForReady(url, arena, 400_000);
      process.stdout.write(`own broker at ${broker.brokers}; arena start ready after ${Date.now() - startedAt} ms\n`);
    }, 600_000);

    afterAll(async () => {
      if (arena && arena.child.exitCode === null) {
        arena.child.kill('SIGTERM');
        await arena.exited;
      }
      await db?.destroy();
      await broker?.destroy();
    }, 120_000);

    /** Fails at once, with the process's last output, when arena has exited. */
    const alive = async (): Promise<void> => {
      if (arena.child.exitCode !== null) throw new StopWaiting(`arena exited (${arena.child.exitCode}):\n${arena.output().slice(-6000)}`);
    };

    it('heals every consumer after 5 clean restarts and 2 SIGKILLs, with every acknowledged write visible', async () => {
      const load = new WriteLoad([url]);
      load.start();
      try {
        await eventually('first writes', async () => load.acknowledged.length >= 5, 60_000);
        const groupsBefore = await consumerGroupMembers(broker.brokers, topicPrefix);
        expect(Object.keys(groupsBefore).length).toBeGreaterThanOrEqual(10);
        for (const [group, members] of Object.entries(groupsBefore)) expect([group, members >= 1]).toEqual([group, true]);

        // Five clean restarts and two SIGKILLs; fewer only when asked (a machine too slow for the full run).
        const rounds = [
          ...Array.from({ length: Number(process.env.BROKER_RESTART_ROUNDS ?? 5) }, () => 'restart' as const),
          ...Array.from({ length: Number(process.env.BROKER_KILL_ROUNDS ?? 2) }, () => 'sigkill' as const),
        ];
        for (const [index, round] of rounds.entries()) {
          const acknowledgedBefore = load.acknowledged.length;
          if (round === 'restart') await broker.stop();
          else await broker.kill();
          await eventually(`round ${index + 1}: /readyz 503 while the broker is down`, async () => (await alive(), (await readyzStatus(url)) === 503), 30_000);
          await new Promise((resolve) => setTimeout(resolve, 2_000)); // writes keep coming meanwhile
          await broker.start();
          const readyAfterMs = await eventually(`round ${index + 1}: /readyz 200 again`, async () => (await alive(), (await readyzStatus(url)) === 200), 150_000, 500);
          await eventually(
            `round ${index + 1}: every consumer group has its members`,
            async () => {
              const groups = await consumerGroupMembers(broker.brokers, topicPrefix);
              return Object.keys(groupsBefore).every((group) => (groups[group] ?? 0) >= 1);
            },
            60_000,
            1_000,
          );
          expect(arena.child.exitCode).toBeNull();
          process.stdout.write(
            `broker ${round} ${index + 1}/${rounds.length}: ready again ${readyAfterMs} ms after the broker was back; ` +
              `acknowledged writes ${acknowledgedBefore} -> ${load.acknowledged.length}\n`,
          );
        }
      } finally {
        await load.stop();
      }

      const userIds = load.acknowledged.map((write) => write.userId);
      const agentIds = load.acknowledged.flatMap((write) => (write.agentId ? [write.agentId] : []));
      expect(userIds.length).toBeGreaterThan(20);
      await eventually(
        'every acknowledged user and agent in the read models',
        async () => {
          const users = await db('users').whereIn('id', userIds).count<{ count: string }[]>({ count: '*' });
          const agents = await db('agents').whereIn('id', agentIds).count<{ count: string }[]>({ count: '*' });
          return Number(users[0]!.count) === userIds.length && Number(agents[0]!.count) === agentIds.length;
        },
        120_000,
        1_000,
      );
      expect(await readyzStatus(url)).toBe(200);
    }, 1_500_000);
  },
);
