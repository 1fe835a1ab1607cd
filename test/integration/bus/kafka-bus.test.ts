/**
 * The MessageBus contract against a real Kafka broker: `npm run kafka:start`, then
 * `KAFKA_BROKERS=127.0.0.1:19092 npx jest test/integration/bus/kafka-bus`.
 */
import { randomBytes } from 'node:crypto';
import { KafkaMessageBus } from '../../../src/infrastructure/bus/kafka-bus';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { describeWithEngine } from '../../support/engines';
import { messageBusContract } from './message-bus.contract';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);

describeWithEngine('kafka', brokers.length > 0, 'KAFKA_BROKERS not set')('KafkaMessageBus', () => {
  const logger = createLogger({ name: 'kafka-bus-test', level: process.env.TEST_LOG_LEVEL ?? 'error' });

  messageBusContract('kafka', async () => ({
    bus: new KafkaMessageBus({ brokers, logger, clientId: 'kafka-bus-test', heartbeatIntervalMs: 500 }),
    topicPrefix: `bus-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
  }));
});
