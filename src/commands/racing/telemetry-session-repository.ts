import {
  telemetrySessionDecider,
  sessionStreamId,
  type TelemetrySession,
  type TelemetrySessionCommand,
  type TelemetrySessionEvent,
} from '../../domain/racing/telemetry-session';
import type { EventStore } from '../../infrastructure/eventstore/event-store';
import { CachedStateSource } from '../cached-state-source';
import { handleCommand, type CommandOutcome, type HandleCommandOptions } from '../handle-command';
import { WholeStreamSource, type LoadedState, type StateSource } from '../state-source';

/**
 * TelemetrySession streams through the one command handler. A session stream holds every telemetry
 * batch (MBs of points), so folding it from revision 0 for each upload would make a long session
 * cost O(n) per batch: the state comes from a source that remembers recently used sessions and reads
 * only the events after the remembered revision (by default in memory over the whole stream; the
 * app passes memory over snapshots, `createCommandStates`).
 */
export class TelemetrySessionRepository {
  private readonly source: StateSource<TelemetrySession>;

  constructor(
    private readonly store: EventStore,
    options: { maxCachedSessions?: number; source?: StateSource<TelemetrySession> } = {},
  ) {
    this.source =
      options.source ??
      new CachedStateSource(store, telemetrySessionDecider, new WholeStreamSource(store, telemetrySessionDecider), {
        maxEntries: options.maxCachedSessions ?? 1000,
      });
  }

  load(sessionId: string): Promise<LoadedState<TelemetrySession>> {
    return this.source.load(sessionStreamId(sessionId), { afterConflict: false });
  }

  /**
   * Load, decide, append with the expected revision; on a concurrent append, decide again on the
   * fresh state. `store`: the request's store (CommandContext.store), so its read-your-writes gets
   * the appended events without reading them back; the repository's own otherwise.
   */
  handle(
    sessionId: string,
    command: TelemetrySessionCommand,
    options: Omit<HandleCommandOptions<TelemetrySession, TelemetrySessionEvent>, 'source'> = {},
    store: EventStore = this.store,
  ): Promise<CommandOutcome<TelemetrySession, TelemetrySessionEvent>> {
    return handleCommand(store, sessionStreamId(sessionId), telemetrySessionDecider, command, { ...options, source: this.source });
  }
}
