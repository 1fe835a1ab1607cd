import {
  telemetrySessionDecider,
  sessionStreamId,
  type TelemetrySession,
  type TelemetrySessionCommand,
  type TelemetrySessionEvent,
} from '../../domain/racing/telemetry-session';
import { fold } from '../../domain/shared/decider';
import { WrongExpectedRevisionError } from '../../infrastructure/eventstore/errors';
import type { EventMetadata, EventStore, RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { toDomainEvent, toStoredData, type CommandOutcome } from '../handle-command';
import type { JsonObject } from '../../infrastructure/eventstore/event-store';
import { toStoredTelemetryBatch, unpackStoredTelemetryBatch } from '../../domain/racing/telemetry-session-events';

/** Telemetry batches are stored packed (format 2, telemetry-batch-packing.ts); every other event as it is. */
function toStoredSessionData(event: TelemetrySessionEvent): JsonObject {
  return event.type === 'TelemetryBatchRecorded' ? (toStoredTelemetryBatch(event.data) as unknown as JsonObject) : toStoredData(event);
}

/** Reads both stored formats of a batch back into the domain event (columns as arrays). */
function toSessionEvent(recorded: RecordedEvent): TelemetrySessionEvent {
  if (recorded.type === 'TelemetryBatchRecorded') return { type: 'TelemetryBatchRecorded', data: unpackStoredTelemetryBatch(recorded.data) };
  return toDomainEvent<TelemetrySessionEvent>(recorded);
}

interface Loaded {
  state: TelemetrySession;
  revision: bigint | null;
}

/**
 * Loads and decides TelemetrySession streams like `handleCommand`, with one difference: a session
 * stream holds every telemetry batch (MBs of points), so folding it from revision 0 for each upload
 * would make a long session cost O(n) per batch. The repository keeps the folded state of recently
 * used sessions (bounded, least recently used out) and reads only the events after the cached
 * revision. Streams are append-only, so a cached state plus the events after it is exactly the
 * state a full read gives, also when another process appended meanwhile.
 */
export class TelemetrySessionRepository {
  private readonly cache = new Map<string, Loaded>();

  constructor(
    private readonly store: EventStore,
    private readonly options: { maxCachedSessions?: number } = {},
  ) {}

  async load(sessionId: string): Promise<Loaded> {
    const streamId = sessionStreamId(sessionId);
    const cached = this.cache.get(streamId);
    const fromRevision = cached?.revision === null || cached === undefined ? 0n : cached.revision + 1n;
    const recorded = await this.store.readStream(streamId, { fromRevision });
    const start = cached ?? { state: telemetrySessionDecider.initialState(), revision: null };
    if (recorded.length === 0) return start;
    const events = recorded.map(toSessionEvent);
    const loaded = { state: events.reduce(telemetrySessionDecider.evolve, start.state), revision: recorded[recorded.length - 1]!.revision };
    this.remember(streamId, loaded);
    return loaded;
  }

  /** Load, decide, append with the expected revision; on a concurrent append, decide again on the fresh state. */
  async handle(
    sessionId: string,
    command: TelemetrySessionCommand,
    options: {
      metadata?: EventMetadata;
      maxAttempts?: number;
      /** Ids for the decided events (deterministic ids make a retried append idempotent); random when absent. */
      eventIds?: (events: TelemetrySessionEvent[]) => string[];
    } = {},
  ): Promise<CommandOutcome<TelemetrySession, TelemetrySessionEvent>> {
    const streamId = sessionStreamId(sessionId);
    const maxAttempts = options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const { state, revision } = await this.load(sessionId);
      const events = telemetrySessionDecider.decide(command, state);
      if (events.length === 0) return { events, state, revision, position: null };
      const ids = options.eventIds?.(events);
      try {
        const result = await this.store.append(
          streamId,
          events.map((event, index) => ({ ...(ids ? { id: ids[index] } : {}), type: event.type, data: toStoredSessionData(event), metadata: options.metadata })),
          { expectedRevision: revision === null ? 'no_stream' : revision },
        );
        const next = { state: fold({ ...telemetrySessionDecider, initialState: () => state }, events), revision: result.nextExpectedRevision };
        this.remember(streamId, next);
        return { events, state: next.state, revision: next.revision, position: result.position };
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && attempt < maxAttempts) continue;
        throw error;
      }
    }
  }

  private remember(streamId: string, loaded: Loaded): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, loaded);
    const max = this.options.maxCachedSessions ?? 1000;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
  }
}
