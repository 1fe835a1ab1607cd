import { Kafka, logLevel } from 'kafkajs';
import { TRAINING_JOB_CATEGORY } from '../../domain/training/training-job';
import { SESSION_CATEGORY } from '../../domain/racing/telemetry-session-events';
import { KAFKA_MAX_MESSAGE_BYTES } from '../../infrastructure/bus/kafka-bus';
import type { Config } from '../../infrastructure/config/config';
import { allClickHouseProjections } from '../app-container';
import { topicForCategory } from '../../infrastructure/bus/event-envelope';
import { allPostgresProjections } from '../app-container';

/**
 * Stream categories the relay publishes (one topic each). The consumed ones also come from the
 * projection catalogs, so a new projection's category is never missed; the relay creates any
 * other topic on first publish, with the broker's defaults.
 */
const STREAM_CATEGORIES = ['user', 'unique', SESSION_CATEGORY, TRAINING_JOB_CATEGORY, 'agent', 'agentname', 'submission', 'match', 'matchslots', 'ladder', 'policy'];

export function deploymentTopics(topicPrefix: string): string[] {
  const categories = new Set([
    ...STREAM_CATEGORIES,
    ...allPostgresProjections.flatMap((p) => p.categories),
    ...allClickHouseProjections.flatMap((p) => p.categories),
  ]);
  const topics = [...categories].sort().map((category) => topicForCategory(topicPrefix, category));
  return [...topics, ...topics.map((topic) => `${topic}.dlq`)];
}

/**
 * `arena migrate` with KAFKA_BROKERS: creates the deployment's topics with the configured
 * partitions, replication factor and retention (existing topics are left as they are).
 * Returns the topics it created.
 */
export async function createKafkaTopics(config: Config): Promise<string[]> {
  if (!config.KAFKA_BROKERS) return [];
  const admin = new Kafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-migrate`, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = deploymentTopics(config.TOPIC_PREFIX).filter((topic) => !existing.has(topic));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: config.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: config.KAFKA_TOPIC_REPLICATION_FACTOR,
        configEntries: [
          { name: 'retention.ms', value: String(config.KAFKA_TOPIC_RETENTION_MS) },
          { name: 'max.message.bytes', value: String(KAFKA_MAX_MESSAGE_BYTES) },
        ],
      })),
    });
    return missing;
  } finally {
    await admin.disconnect();
  }
}
