/**
 * `arena migrate` creates the deployment's Kafka topics with the configured partitions, replication
 * and retention: `KAFKA_BROKERS=127.0.0.1:19092 npx jest test/integration/ops/kafka-topics`.
 */
import { randomBytes } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../../src/infrastructure/config/config';
import { createKafkaTopics, deploymentTopics } from '../../../src/runtime/ops/kafka-topics';
import { describeWithEngine } from '../../support/engines';

const brokers = process.env.KAFKA_BROKERS ?? '';

describeWithEngine('kafka', brokers !== '', 'KAFKA_BROKERS not set')('Kafka topics of arena migrate', () => {
  jest.setTimeout(120_000);
  const prefix = `migrate-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
  const admin = new Kafka({ brokers: brokers.split(','), clientId: 'kafka-topics-test', logLevel: logLevel.NOTHING }).admin();
  beforeAll(() => admin.connect());
  afterAll(async () => {
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours }).catch(() => undefined);
    await admin.disconnect();
  });

  it('creates every category topic and its dead-letter topic once, with partitions and retention', async () => {
    const config = loadConfig({ KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '2', KAFKA_TOPIC_RETENTION_MS: '86400000' });
    const expected = deploymentTopics(prefix);
    expect(expected).toEqual(expect.arrayContaining([`${prefix}user`, `${prefix}session`, `${prefix}match`, `${prefix}session.dlq`]));

    expect((await createKafkaTopics(config)).sort()).toEqual([...expected].sort());
    expect(await createKafkaTopics(config)).toEqual([]);

    const metadata = await admin.fetchTopicMetadata({ topics: [`${prefix}user`, `${prefix}session.dlq`] });
    expect(metadata.topics.map((t) => t.partitions.length)).toEqual([2, 2]);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: `${prefix}user`, configNames: ['retention.ms', 'max.message.bytes'] }],
    });
    const entries = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toEqual({ 'retention.ms': '86400000', 'max.message.bytes': String(16 * 1024 * 1024) });
  });
});
