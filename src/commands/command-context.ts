import type { EventMetadata, EventStore } from '../infrastructure/eventstore/event-store';
import type { CommandStates } from './command-states';

/** What every command handler gets: the store, the clock and id source (so tests can fix them), and who asked. */
export interface CommandContext {
  store: EventStore;
  now: () => Date;
  newId: () => string;
  metadata: EventMetadata;
  /**
   * The process's state sources for long streams (memory over snapshots). Absent: every command
   * reads its whole stream, which gives the same answers, only slower.
   */
  states?: CommandStates;
}
