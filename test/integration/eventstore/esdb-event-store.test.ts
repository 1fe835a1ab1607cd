import { EventStoreDbEventStore } from '../../../src/infrastructure/eventstore/esdb-event-store';
import { createLogger } from '../../../src/infrastructure/logging/logger';
import { describeWithEngine } from '../../support/engines';
import { eventStoreContract } from './event-store.contract';

/**
 * Runs the EventStore contract against a real EventStoreDB when ESDB_URL is set
 * (e.g. esdb://127.0.0.1:2113?tls=false). The server keeps data between runs; the contract
 * only uses fresh streams and ignores other events.
 */
const esdbUrl = process.env.ESDB_URL ?? '';

describeWithEngine('esdb', esdbUrl !== '', 'ESDB_URL not set')('EventStoreDbEventStore', () => {
  eventStoreContract('EventStoreDB', async () => {
    const store = new EventStoreDbEventStore(esdbUrl, createLogger({ level: 'silent' }));
    await store.ping();
    return store;
  });
});
