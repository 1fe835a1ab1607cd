import { randomUUID } from 'node:crypto';
import {
  ANY,
  AccessDeniedError,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  MaxAppendSizeExceededError,
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
import { AppendTooLargeError, EventStoreServerUnsuitableError, WrongExpectedRevisionError } from './errors';
import { eventIdsFor } from './event-json';
import { foreignEventReason, toOwnRecordedEvent, SENTINEL_POSITION, type EsdbRecordedEvent } from './esdb-recorded-event';
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
  type StoreIdentity,
  type SubscribeToAllOptions,
  type Subscription,
} from './event-store';

/** Names and types starting with `$` belong to EventStoreDB itself (stats, settings, projections) or are ours-internal. */
function isSystemEvent(event: { streamId: string; type: string }): boolean {
  return event.streamId.startsWith('$') || event.type.startsWith('$');
}

/** The stream holding this store's identity event; its `$`-type keeps it out of $all reads and off the bus. */
export const STORE_IDENTITY_STREAM = 'arena-store-identity';
export const STORE_IDENTITY_EVENT_TYPE = '$arena-store-identity';

/** Oldest server version whose stream reads carry real positions (older ones answer SENTINEL_POSITION). */
export const MINIMUM_SERVER_VERSION = '22.6';

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

/** What a $all read may cost at most per gRPC call: the server counts system events too. */
const DEFAULT_READ_PAGE_SIZE = 500;
const PING_DEADLINE_MS = 5_000;
/** Ids of skipped foreign events remembered so that each is logged and counted once. */
const REMEMBERED_FOREIGN_IDS = 10_000;

export interface EventStoreDbOptions {
  /** Events per `$all` read call (default 500). */
  readPageSize?: number;
  /** Pause before resubscribing after the server ended a subscription (default 100 ms, doubling to 5 s while nothing is delivered). */
  resubscribeDelayMs?: number;
}

/**
 * The production EventStore on EventStoreDB / KurrentDB (gRPC client 6.x); see docs/event-store.md.
 * Positions are the server's commit/prepare positions; system events are never returned, and
 * events this system cannot have written (binary, non-JSON, non-object metadata) are skipped and
 * counted (`foreignEventsSkipped`). Every read that is not drained is cancelled: an abandoned call
 * stays open on the server (its deadline is infinite) and ~100 of them stall the connection.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<Subscription>();
  private readonly foreignIds = new Set<string>();
  private readonly readPageSize: number;
  private readonly resubscribeDelayMs: number;
  private cachedIdentity: StoreIdentity | undefined;
  /** Foreign events skipped so far (each counted once per process). */
  foreignEventsSkipped = 0;
  /** Times the server ended a subscription by itself and it was resubscribed. */
  subscriptionsResumed = 0;

  constructor(
    connectionString: string,
    private readonly logger: Logger,
    options: EventStoreDbOptions = {},
  ) {
    this.client = EventStoreDBClient.connectionString(connectionString);
    this.readPageSize = options.readPageSize ?? DEFAULT_READ_PAGE_SIZE;
    this.resubscribeDelayMs = options.resubscribeDelayMs ?? 100;
  }

  async append(streamId: string, events: NewEvent[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError(`append to ${streamId}: no events`);
    const ids = eventIdsFor(events, randomUUID);
    const esdbEvents = events.map((event, index) =>
      jsonEvent({ id: ids[index], type: event.type, data: event.data, metadata: event.metadata ?? {} }),
    );
    let result;
    try {
      result = await this.client.appendToStream(streamId, esdbEvents, {
        expectedRevision: toEsdbExpectedRevision(expectedRevision),
      });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        throw new WrongExpectedRevisionError(streamId, expectedRevision, error.actualVersion);
      }
      if (error instanceof MaxAppendSizeExceededError) {
        throw new AppendTooLargeError(streamId, Number.isFinite(error.maxAppendSize) ? error.maxAppendSize : undefined);
      }
      throw error;
    }
    // With `throwOnAppendFailure=false` in the connection string the client resolves a conflict.
    if (!result.success) {
      const actual = result.nextExpectedRevision < 0n ? 'no_stream' : result.nextExpectedRevision;
      throw new WrongExpectedRevisionError(streamId, expectedRevision, actual);
    }
    const position = result.position ?? (await this.positionOf(streamId, result.nextExpectedRevision));
    return { nextExpectedRevision: result.nextExpectedRevision, position };
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
    let drained = false;
    try {
      for await (const resolved of read) {
        if (!resolved.event) continue;
        const recorded = this.ownEvent(resolved.event, resolved.commitPosition);
        if (recorded) events.push(recorded);
      }
      drained = true;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    } finally {
      if (!drained) await read.cancel();
    }
    return events;
  }

  /**
   * $all forwards, strictly after `after`, own events only. Read in pages of `readPageSize` with the
   * server's `maxCount`, which counts system and foreign events too: a page with none of ours is
   * not the end, only a short page is. A read left before its end is cancelled.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return [];
    const events: RecordedEvent[] = [];
    let after = options.after;
    for (;;) {
      // fromPosition is inclusive: one more than needed, as the first may be `after` itself.
      const pageSize = Math.min(limit - events.length, this.readPageSize) + 1;
      const page = await this.readAllPage(after, pageSize, limit - events.length);
      events.push(...page.events);
      if (events.length >= limit || page.received < pageSize || page.last === undefined) return events;
      after = page.last;
    }
  }

  private async readAllPage(
    after: GlobalPosition | undefined,
    pageSize: number,
    wanted: number,
  ): Promise<{ events: RecordedEvent[]; received: number; last: GlobalPosition | undefined }> {
    const read = this.client.readAll({ direction: FORWARDS, fromPosition: after ?? START, maxCount: pageSize });
    const events: RecordedEvent[] = [];
    let received = 0;
    let last: GlobalPosition | undefined;
    let drained = false;
    try {
      for await (const resolved of read) {
        received += 1;
        const position = positionOfResolved(resolved);
        if (position) last = position;
        if (after && position && comparePositions(position, after) <= 0) continue;
        const recorded = this.ownAllEvent(resolved);
        if (!recorded) continue;
        events.push(recorded);
        if (events.length >= wanted) break;
      }
      drained = events.length < wanted;
    } finally {
      if (!drained) await read.cancel();
    }
    return { events, received, last };
  }

  subscribeToAll(options: SubscribeToAllOptions): Subscription {
    let stopping = false;
    let current: { unsubscribe(): Promise<void> } | undefined;
    let wakeDelay: (() => void) | undefined;
    let last = options.after;
    const report = (caught: unknown) => {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      if (options.onError) options.onError(error);
      else this.logger.error({ err: error }, 'EventStoreDB subscription stopped by an error');
    };
    const delivering = (async () => {
      let quietEnds = 0;
      while (!stopping) {
        const esdbSubscription = this.client.subscribeToAll({ fromPosition: last ?? START, filter: excludeSystemEvents() });
        current = esdbSubscription;
        let delivered = 0;
        try {
          for await (const resolved of esdbSubscription) {
            if (stopping) break;
            const position = positionOfResolved(resolved);
            if (last && position && comparePositions(position, last) <= 0) continue;
            const recorded = this.ownAllEvent(resolved);
            if (!recorded) continue;
            await options.onEvent(recorded);
            last = recorded.position;
            delivered += 1;
          }
        } catch (caught) {
          if (!stopping) report(caught);
          return;
        } finally {
          await esdbSubscription.unsubscribe().catch(() => undefined);
        }
        if (stopping) return;
        // The server ended the subscription without an error (e.g. a node stepping down): resume.
        quietEnds = delivered > 0 ? 0 : quietEnds + 1;
        this.subscriptionsResumed += 1;
        this.logger.warn({ after: last ? `${last.commit}:${last.prepare}` : 'start', quietEnds }, 'EventStoreDB ended a subscription; resubscribing from the last delivered position');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(5000, this.resubscribeDelayMs * 2 ** Math.min(quietEnds, 6)));
          wakeDelay = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        stopping = true;
        wakeDelay?.();
        await current?.unsubscribe().catch(() => undefined);
        await delivering;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Readiness: reads one event of $all, which is what the relay needs. Reading $all needs read
   * access to system streams (admins by default); a user stream read would pass without it.
   */
  async ping(): Promise<void> {
    // A deadline: readiness probes that time out must not leave calls behind.
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, deadline: PING_DEADLINE_MS });
    try {
      for await (const resolved of read) void resolved;
    } catch (error) {
      if (error instanceof AccessDeniedError) {
        throw new EventStoreServerUnsuitableError(
          'EventStoreDB denies this user reading $all, which the relay needs: connect as a user that may read $all (an admin, by default)',
        );
      }
      throw error;
    } finally {
      await read.cancel();
    }
  }

  /**
   * Start-up check: $all is readable, and stream reads carry real positions (servers before
   * MINIMUM_SERVER_VERSION answer SENTINEL_POSITION, which would corrupt checkpoints). Creates
   * the identity event on first use, which also gives an event to check positions on.
   */
  async verifyServer(): Promise<void> {
    await this.ping();
    await this.identity();
  }

  async identity(): Promise<StoreIdentity> {
    if (this.cachedIdentity) return this.cachedIdentity;
    let [event] = await this.readStream(STORE_IDENTITY_STREAM, { maxCount: 1 });
    if (!event) {
      try {
        await this.append(STORE_IDENTITY_STREAM, [{ type: STORE_IDENTITY_EVENT_TYPE, data: { instanceId: randomUUID() } }], { expectedRevision: 'no_stream' });
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error; // another process created it first
      }
      [event] = await this.readStream(STORE_IDENTITY_STREAM, { maxCount: 1 });
    }
    const instanceId = event?.data.instanceId;
    if (typeof instanceId !== 'string') throw new Error(`stream ${STORE_IDENTITY_STREAM} holds no store identity`);
    this.cachedIdentity = { kind: 'esdb', instanceId };
    return this.cachedIdentity;
  }

  async close(): Promise<void> {
    const running = [...this.subscriptions];
    this.subscriptions.clear();
    await Promise.all(running.map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  /** Our event from a $all read or subscription, or undefined for links, system and foreign events. */
  private ownAllEvent(resolved: AllStreamResolvedEvent): RecordedEvent | undefined {
    const event = resolved.event;
    if (!event || isSystemEvent(event)) return undefined;
    return this.ownEvent(event, resolved.commitPosition);
  }

  /** Our event, or undefined (skipped, counted and logged once) for one this system cannot have written. */
  private ownEvent(event: EsdbRecordedEvent, commitPosition: bigint | undefined): RecordedEvent | undefined {
    if (event.streamId === STORE_IDENTITY_STREAM) return toOwnRecordedEvent(event, commitPosition);
    const reason = foreignEventReason(event);
    if (reason === undefined) return toOwnRecordedEvent(event, commitPosition);
    if (!this.foreignIds.has(event.id)) {
      if (this.foreignIds.size >= REMEMBERED_FOREIGN_IDS) this.foreignIds.clear();
      this.foreignIds.add(event.id);
      this.foreignEventsSkipped += 1;
      this.logger.warn(
        { eventId: event.id, streamId: event.streamId, eventType: event.type, reason, foreignEventsSkipped: this.foreignEventsSkipped },
        'skipped an event this system did not write',
      );
    }
    return undefined;
  }
}

function positionOfResolved(resolved: ResolvedEvent | AllStreamResolvedEvent): GlobalPosition | undefined {
  const position = resolved.event?.position ?? resolved.link?.position;
  if (position) return position;
  return resolved.commitPosition !== undefined ? { commit: resolved.commitPosition, prepare: resolved.commitPosition } : undefined;
}

export { SENTINEL_POSITION };
