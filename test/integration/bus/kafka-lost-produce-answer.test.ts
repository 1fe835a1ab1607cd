/**
 * A publish whose answer is lost after the broker appended it (the broker stopped or crashed right
 * after writing, as in test/e2e/kafka-broker-restarts.test.ts). kafkajs rolls its idempotent
 * sequence numbers back after the failed send; the relay then publishes again from its checkpoint,
 * now with more events. With the same producer that batch was refused with
 * OUT_OF_ORDER_SEQUENCE_NUMBER on every attempt, so the relay never published again and
 * acknowledged writes never reached the read models. Runs on the shared broker (KAFKA_BROKERS);
 * the fault is in the link between the bus and the broker, the broker itself is untouched.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaMessageBus } from '../../../src/infrastructure/bus/kafka-bus';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { describeWithEngine } from '../../support/engines';
import { FaultyKafkaLink } from '../../support/faulty-kafka-link';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);

describeWithEngine('kafka', brokers.length === 1, 'KAFKA_BROKERS not set (or more than one broker: the faulty link fronts one)')(
  'KafkaMessageBus after a produce answer was lost',
  () => {
    const logger = createLogger({ name: 'kafka-lost-answer-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const [host, port] = (brokers[0] ?? ':').split(':');
    const topic = `lost-answer-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    let link: FaultyKafkaLink;
    let bus: KafkaMessageBus;

    beforeAll(() => {
      link = new FaultyKafkaLink({ host: host!, port: Number(port) });
      // Few, quick retries: the send must fail while the link is down, not outlast it.
      bus = new KafkaMessageBus({ brokers, logger, clientId: 'kafka-lost-answer-test', partitions: 1, socketFactory: link.socketFactory, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } });
    });

    afterAll(async () => {
      await bus?.close();
      link?.close();
    });

    async function valuesInTopic(): Promise<string[]> {
      const admin = new Kafka({ clientId: 'kafka-lost-answer-reader', brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const [end] = await admin.fetchTopicOffsets(topic);
        const high = Number(end!.high);
        const consumer = new Kafka({ clientId: 'kafka-lost-answer-reader', brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 200 });
        const values: string[] = [];
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${high} messages`)), 60_000);
          if (high === 0) resolve();
          void consumer.run({
            eachMessage: async ({ message }) => {
              values.push(message.value?.toString('utf8') ?? '');
              if (Number(message.offset) + 1 >= high) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
        });
        await consumer.disconnect();
        await admin.deleteGroups([`${topic}-reader`]).catch(() => undefined);
        return values;
      } finally {
        await admin.disconnect();
      }
    }

    it('publishes again with the next batch, and every message is in the topic', async () => {
      const message = (value: string) => ({ key: 'stream-1', value });
      await bus.ensureTopics([topic]);
      await bus.publish(topic, [message('e1')]);

      // e2 reaches the broker and is appended; its answer is lost and the link stays down.
      link.loseNextProduceAnswer();
      await expect(bus.publish(topic, [message('e2')])).rejects.toThrow('Kafka did not accept the messages');
      expect(link.lostAnswers).toBe(1);

      // The broker is back. As the relay does: everything from its checkpoint, with what came meanwhile.
      link.heal();
      await bus.publish(topic, [message('e2'), message('e3')]);
      await bus.publish(topic, [message('e4')]);

      const values = await valuesInTopic();
      // At least once, in order: e2 may be there twice (appended, then published again).
      expect(values.filter((value, index) => value !== values[index - 1])).toEqual(['e1', 'e2', 'e3', 'e4']);
    }, 120_000);
  },
);
