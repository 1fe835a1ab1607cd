import { randomUUID } from 'node:crypto';
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { Logger } from '../logging/logger';
import { WrongExpectedRevisionError } from './errors';
import { eventIdsFor, eventMetadataSchema, jsonObjectSchema } from './event-json';
import {
  comparePositions,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
  type Subscription,
} from './event-store';

/** The client's recorded event, JSON or binary; only JSON events are ours. */
type EsdbRecordedEvent = NonNullable<ResolvedEvent['event']>;

/** Names and types starting with `$` belong to EventStoreDB itself (stats, settings, projections). */
function isSystemEvent(event: { streamId: string; type: string }): boolean {
  return event.streamId.startsWith('$') || event.type.startsWith('$');
}

function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return expected;
  }
}

/**
 * The production EventStore on EventStoreDB (gRPC client 6.x). Positions are the server's
 * commit/prepare positions; system events are never returned. close() disposes the client.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<Subscription>();

  constructor(
    connectionString: string,
    private readonly logger: Logger,
  ) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async append(streamId: string, events: NewEvent[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError(`append to ${streamId}: no events`);
    const ids = eventIdsFor(events, randomUUID);
    const esdbEvents = events.map((event, index) =>
      jsonEvent({ id: ids[index], type: event.type, data: event.data, metadata: event.metadata ?? {} }),
    );
    try {
      const result = await this.client.appendToStream(streamId, esdbEvents, {
        expectedRevision: toEsdbExpectedRevision(expectedRevision),
      });
      const position = result.position ?? (await this.positionOf(streamId, result.nextExpectedRevision));
      return { nextExpectedRevision: result.nextExpectedRevision, position };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        throw new WrongExpectedRevisionError(streamId, expectedRevision, error.actualVersion);
      }
      throw error;
    }
  }

  /**
   * For an append answered without a position (the server may do so for an idempotent retry): the
   * position of the batch's last event, read back, which is a valid "after this append" checkpoint.
   */
  private async positionOf(streamId: string, revision: bigint): Promise<GlobalPosition> {
    const [event] = await this.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    if (!event) throw new Error(`append to ${streamId}: revision ${String(revision)} not found after the append`);
    return event.position;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backward = options.direction === 'backward';
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    const read = this.client.readStream(streamId, {
      direction: backward ? BACKWARDS : FORWARDS,
      fromRevision: options.fromRevision ?? (backward ? END : START),
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
    });
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of read) {
        if (resolved.event) events.push(toRecordedEvent(resolved.event, resolved.commitPosition));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  /**
   * $all read forwards. The server's fromPosition is inclusive and counts system events, so both
   * are filtered here and reading stops (cancelling the call) once `maxCount` events are collected.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return [];
    const after = options.after;
    const events: RecordedEvent[] = [];
    const read = this.client.readAll({ direction: FORWARDS, fromPosition: after ?? START });
    for await (const resolved of read) {
      const recorded = ownEvent(resolved, after);
      if (!recorded) continue;
      events.push(recorded);
      if (events.length >= limit) break;
    }
    return events;
  }

  subscribeToAll(options: SubscribeToAllOptions): Subscription {
    const esdbSubscription = this.client.subscribeToAll({
      fromPosition: options.after ?? START,
      filter: excludeSystemEvents(),
    });
    let stopping = false;
    const delivering = (async () => {
      try {
        for await (const resolved of esdbSubscription) {
          if (stopping) break;
          const recorded = ownEvent(resolved, options.after);
          if (recorded) await options.onEvent(recorded);
        }
      } catch (caught) {
        if (stopping) return;
        const error = caught instanceof Error ? caught : new Error(String(caught));
        if (options.onError) options.onError(error);
        else this.logger.error({ err: error }, 'EventStoreDB subscription stopped by an error');
      } finally {
        if (!stopping) await esdbSubscription.unsubscribe().catch(() => undefined);
      }
    })();
    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        stopping = true;
        await esdbSubscription.unsubscribe();
        await delivering;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Any answer proves the server is up; a missing stream is an answer. */
  async ping(): Promise<void> {
    await this.readStream('arena-readiness-ping', { maxCount: 1 });
  }

  async close(): Promise<void> {
    const running = [...this.subscriptions];
    this.subscriptions.clear();
    await Promise.all(running.map((subscription) => subscription.stop()));
    await this.client.dispose();
  }
}

/** Our event from a $all read or subscription, or undefined for links, system events and `after` itself. */
function ownEvent(resolved: AllStreamResolvedEvent, after: GlobalPosition | undefined): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event || isSystemEvent(event)) return undefined;
  const recorded = toRecordedEvent(event, resolved.commitPosition);
  if (after && comparePositions(recorded.position, after) <= 0) return undefined;
  return recorded;
}

function toRecordedEvent(event: EsdbRecordedEvent, commitPosition: bigint | undefined): RecordedEvent {
  if (!event.isJson) throw new Error(`event ${event.id} in ${event.streamId} is binary; this store only holds JSON events`);
  // Servers before 22.6 return no position on stream reads; the commit position alone still orders events.
  const position = event.position ?? (commitPosition !== undefined ? { commit: commitPosition, prepare: commitPosition } : undefined);
  if (!position) throw new Error(`event ${event.id} in ${event.streamId} came without a position`);
  return {
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    data: jsonObjectSchema.parse(event.data),
    metadata: eventMetadataSchema.parse(event.metadata ?? {}),
    revision: event.revision,
    position,
    createdAt: event.created,
  };
}
