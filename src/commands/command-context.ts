import type { EventMetadata, EventStore } from '../infrastructure/eventstore/event-store';

/** What every command handler gets: the store, the clock and id source (so tests can fix them), and who asked. */
export interface CommandContext {
  store: EventStore;
  now: () => Date;
  newId: () => string;
  metadata: EventMetadata;
}
