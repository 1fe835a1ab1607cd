import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Logger } from '../logging/logger';
import { WrongExpectedRevisionError } from './errors';
import { eventIdsFor } from './event-json';
import type {
  AppendedEvents,
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedRevision,
  GlobalPosition,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StoreIdentity,
  SubscribeToAllOptions,
  Subscription,
} from './event-store';
import { AppendNotifier } from './postgres-append-notifier';
import {
  APPENDED_CHANNEL,
  EVENT_COLUMNS,
  EVENT_ID_CONSTRAINT,
  STREAM_REVISION_CONSTRAINT,
  bigintText,
  isUniqueViolation,
  migrateEventStoreSchema,
  rowsOf,
  toRecordedEvent,
} from './postgres-event-store-schema';
import { PollingSubscription } from './polling-subscription';

export interface PostgresEventStoreOptions {
  /** Longest a caught-up subscription waits before polling again (a safety net: NOTIFY wakes it). Default 5 s. */
  pollIntervalMs?: number;
  /** Events per read while a subscription catches up. Default 500. */
  pageSize?: number;
}

type CurrentRevision = bigint | 'no_stream';

const streamRevisionRow = z.object({ current_revision: bigintText });
const insertedRow = z.object({ global_position: bigintText, transaction_id: bigintText, revision: bigintText, created_at: z.date() });
/** What an append answers per event: where it went and when; the rest the writer sent. */
const APPENDED_COLUMNS = `global_position::text AS global_position, transaction_id::text AS transaction_id, revision::text AS revision, created_at`;

/** An event as the append sends it: its JSON texts made once, for the statement and for `recorded`. */
interface SentEvent {
  id: string;
  streamId: string;
  revision: bigint;
  type: string;
  dataText: string;
  metadataText: string;
}

function sentEvent(streamId: string, event: NewEvent, id: string, revision: bigint): SentEvent {
  return { id, streamId, revision, type: event.type, dataText: JSON.stringify(event.data), metadataText: JSON.stringify(event.metadata ?? {}) };
}

/** An append's result, with its events as recorded when the append wrote them (not for a retried one). */
interface Appended extends AppendResult {
  recorded?: AppendedEvents;
}

/** The result the caller gets; the recorded events go to its onRecorded, when it asks. */
function answered({ nextExpectedRevision, position, recorded }: Appended, options: AppendOptions): AppendResult {
  if (recorded !== undefined) options.onRecorded?.(recorded);
  return { nextExpectedRevision, position };
}

/**
 * The append's result from the rows it inserted (one per sent event); `recorded` decodes the sent
 * texts only when asked, with the row checks a read makes (toRecordedEvent).
 */
function appendResultOf(sent: readonly SentEvent[], inserted: readonly unknown[], nextExpectedRevision: bigint): Appended {
  const rows = inserted.map((row) => insertedRow.parse(row));
  const last = rows.reduce((a, b) => (b.global_position > a.global_position ? b : a));
  const byRevision = new Map(rows.map((row) => [row.revision, row]));
  return {
    nextExpectedRevision,
    position: { commit: last.transaction_id, prepare: last.global_position },
    recorded: {
      first: sent[0]!.revision,
      last: sent[sent.length - 1]!.revision,
      textLength: sent.reduce((sum, event) => sum + event.dataText.length + event.metadataText.length, 0),
      events: () => sent.map((event) => {
        const row = byRevision.get(event.revision);
        if (row === undefined) throw new Error(`append to ${event.streamId}: no row answered for revision ${event.revision}`);
        return toRecordedEvent({
          global_position: String(row.global_position),
          transaction_id: String(row.transaction_id),
          event_id: event.id,
          stream_id: event.streamId,
          revision: String(event.revision),
          type: event.type,
          data: JSON.parse(event.dataText) as unknown,
          metadata: JSON.parse(event.metadataText) as unknown,
          created_at: row.created_at,
        });
      }),
    },
  };
}
const pendingRows = z.array(z.object({ pending: z.boolean() }));

/**
 * The embedded-default EventStore on PostgreSQL (schema `eventstore`). See docs/event-store.md for
 * the schema and why global reads use transaction-id visibility.
 *
 * The knex instance belongs to the caller: close() stops subscriptions and returns the LISTEN
 * connection to the pool but does not destroy the pool.
 */
export class PostgresEventStore implements EventStore {
  private readonly notifier: AppendNotifier;
  private readonly subscriptions = new Set<Subscription>();
  private readonly pollIntervalMs: number;
  private readonly pageSize: number;

  constructor(
    private readonly knex: Knex,
    private readonly logger: Logger,
    options: PostgresEventStoreOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.pageSize = options.pageSize ?? 500;
    this.notifier = new AppendNotifier(knex, logger);
  }

  /** Creates the `eventstore` schema if missing; safe to run concurrently and repeatedly. */
  migrate(): Promise<void> {
    return migrateEventStoreSchema(this.knex);
  }

  /**
   * With an expected revision of `no_stream` or a number (every command's), one statement that is
   * its own transaction (appendAtOnce). Otherwise, or when that did not write, one transaction of
   * four statements (BEGIN, lock, insert + revision + notify, COMMIT). Whether
   * the ids are a retry of an append already stored is asked only when it can be one: the expected
   * revision is not the stream's (a retry after a lost answer finds the stream past it), or it is
   * `any` / `stream_exists`. An id met anyway (stored elsewhere) makes the insert fail; the append is
   * then decided again with that question asked, in a transaction of its own.
   */
  async append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    const { expectedRevision } = options;
    if (events.length > 0 && (expectedRevision === 'no_stream' || typeof expectedRevision === 'bigint')) {
      const appended = await this.appendAtOnce(streamId, events, expectedRevision);
      if (appended !== undefined) return answered(appended, options);
    }
    try {
      return answered(await this.knex.transaction((trx) => this.appendLocked(trx, streamId, events, options, false)), options);
    } catch (error) {
      if (!(error instanceof StoredIdMet)) throw error;
      return answered(await this.knex.transaction((trx) => this.appendLocked(trx, streamId, events, options, true)), options);
    }
  }

  /**
   * The common append in one statement, its own transaction (one round trip, where BEGIN, lock,
   * write, COMMIT took four): the stream's row moves from the expected revision to the new one
   * (`UPDATE ... WHERE current_revision = expected`, or for `no_stream` an insert that does nothing
   * on conflict); only when it moved are the events inserted, and the wake-up sent, in the same
   * statement. The row update waits for, and then re-checks against, a concurrent append of the
   * stream, exactly as the lock does. Undefined when the stream was not at the expected revision
   * or an event id is already stored: the caller then runs the transaction that locks, looks for a
   * retried append and names the stream's revision in its error (nothing was written).
   */
  private async appendAtOnce(streamId: string, events: NewEvent[], expected: 'no_stream' | bigint): Promise<Appended | undefined> {
    const ids = eventIdsFor(events, randomUUID);
    const base = expected === 'no_stream' ? -1n : expected;
    const nextExpectedRevision = base + BigInt(events.length);
    const bindings: string[] = [];
    const sent = events.map((event, index) => sentEvent(streamId, event, ids[index]!, base + BigInt(index + 1)));
    const values = sent.map((event) => {
      bindings.push(event.id, String(event.revision), event.type, event.dataText, event.metadataText);
      return '(?::uuid, ?::bigint, ?, ?::jsonb, ?::jsonb)';
    });
    const advance =
      expected === 'no_stream'
        ? `INSERT INTO eventstore.streams (stream_id, current_revision) VALUES (?, ?::bigint) ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id, pg_notify(?, '')`
        : `UPDATE eventstore.streams SET current_revision = ?::bigint, updated_at = now() WHERE stream_id = ? AND current_revision = ?::bigint RETURNING stream_id, pg_notify(?, '')`;
    const advanceBindings =
      expected === 'no_stream' ? [streamId, String(nextExpectedRevision), APPENDED_CHANNEL] : [String(nextExpectedRevision), streamId, String(expected), APPENDED_CHANNEL];
    let inserted: unknown[];
    try {
      inserted = rowsOf(
        await this.knex.raw(
          `WITH advanced AS (${advance})
           INSERT INTO eventstore.events (event_id, stream_id, revision, type, data, metadata)
           SELECT v.event_id, advanced.stream_id, v.revision, v.type, v.data, v.metadata
           FROM advanced CROSS JOIN (VALUES ${values.join(', ')}) AS v(event_id, revision, type, data, metadata)
           ORDER BY v.revision
           RETURNING ${APPENDED_COLUMNS}`,
          [...advanceBindings, ...bindings],
        ),
      );
    } catch (error) {
      if (isUniqueViolation(error, EVENT_ID_CONSTRAINT) || isUniqueViolation(error, STREAM_REVISION_CONSTRAINT)) return undefined;
      throw error;
    }
    if (inserted.length === 0) return undefined;
    if (inserted.length !== events.length) throw new Error(`append to ${streamId}: ${inserted.length} of ${events.length} events inserted`);
    return appendResultOf(sent, inserted, nextExpectedRevision);
  }

  /**
   * Appends inside the caller's transaction (READ COMMITTED, the default), e.g. to commit events
   * together with other rows. The stream stays locked, and the events invisible, until it commits.
   */
  async appendInTransaction(
    trx: Knex.Transaction,
    streamId: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    const { nextExpectedRevision, position } = await this.appendLocked(trx, streamId, events, options, true);
    return { nextExpectedRevision, position };
  }

  private async appendLocked(
    trx: Knex.Transaction,
    streamId: string,
    events: NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
    alwaysAskRetried: boolean,
  ): Promise<Appended> {
    if (events.length === 0) throw new RangeError(`append to ${streamId}: no events`);
    const ids = eventIdsFor(events, randomUUID);
    const current = await lockStream(trx, streamId);
    // Checked under the stream lock, so a concurrent retry of the same batch sees the first one.
    const mayBeRetry = alwaysAskRetried || expectedRevision === 'any' || expectedRevision === 'stream_exists' || !satisfies(expectedRevision, current);
    if (mayBeRetry) {
      const retried = await findRetriedAppend(trx, streamId, ids, expectedRevision, current);
      if (retried) return retried;
    }
    assertExpectedRevision(streamId, expectedRevision, current);

    const base = current === 'no_stream' ? -1n : current;
    const nextExpectedRevision = base + BigInt(events.length);
    const bindings: string[] = [];
    const sent = events.map((event, index) => sentEvent(streamId, event, ids[index]!, base + BigInt(index + 1)));
    const values = sent.map((event) => {
      // Strings, not objects: pg would turn a top-level array into a PostgreSQL array literal.
      bindings.push(event.id, streamId, String(event.revision), event.type, event.dataText, event.metadataText);
      return '(?::uuid, ?, ?::bigint, ?, ?::jsonb, ?::jsonb)';
    });
    let inserted: unknown[];
    try {
      // The events, the stream's new revision and the wake-up (delivered only if and when the
      // transaction commits), in one statement.
      inserted = rowsOf(
        await trx.raw(
          `WITH advanced AS (
             UPDATE eventstore.streams SET current_revision = ?::bigint, updated_at = now() WHERE stream_id = ?
             RETURNING pg_notify(?, ''))
           INSERT INTO eventstore.events (event_id, stream_id, revision, type, data, metadata)
           VALUES ${values.join(', ')}
           RETURNING ${APPENDED_COLUMNS}`,
          [String(nextExpectedRevision), streamId, APPENDED_CHANNEL, ...bindings],
        ),
      );
    } catch (error) {
      if (isUniqueViolation(error, STREAM_REVISION_CONSTRAINT)) {
        throw new WrongExpectedRevisionError(streamId, expectedRevision, current);
      }
      if (isUniqueViolation(error, EVENT_ID_CONSTRAINT)) {
        if (!mayBeRetry) throw new StoredIdMet(streamId, error);
        throw new Error(`append to ${streamId}: an event id is already stored in another stream`, { cause: error });
      }
      throw error;
    }
    return appendResultOf(sent, inserted, nextExpectedRevision);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const forward = (options.direction ?? 'forward') === 'forward';
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    const conditions = ['stream_id = ?'];
    const bindings: Array<string | number> = [streamId];
    if (options.fromRevision !== undefined) {
      conditions.push(forward ? 'revision >= ?::bigint' : 'revision <= ?::bigint');
      bindings.push(String(options.fromRevision));
    }
    let sql = `SELECT ${EVENT_COLUMNS} FROM eventstore.events WHERE ${conditions.join(' AND ')}
               ORDER BY events.revision ${forward ? 'ASC' : 'DESC'}`;
    if (options.maxCount !== undefined) {
      sql += ' LIMIT ?';
      bindings.push(options.maxCount);
    }
    return rowsOf(await this.knex.raw(sql, bindings)).map(toRecordedEvent);
  }

  /**
   * Events in (transaction id, sequence) order, limited to transactions older than every transaction
   * still running: a transaction still in flight may yet commit an event that sorts before the ones
   * already committed, and a reader that moved past that place would skip it forever.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    const conditions = ['transaction_id < pg_snapshot_xmin(pg_current_snapshot())'];
    const bindings: Array<string | number> = [];
    if (options.after) {
      conditions.push('(transaction_id, global_position) > (?::xid8, ?::bigint)');
      bindings.push(String(options.after.commit), String(options.after.prepare));
    }
    let sql = `SELECT ${EVENT_COLUMNS} FROM eventstore.events WHERE ${conditions.join(' AND ')}
               ORDER BY events.transaction_id, events.global_position`;
    if (options.maxCount !== undefined) {
      sql += ' LIMIT ?';
      bindings.push(options.maxCount);
    }
    return rowsOf(await this.knex.raw(sql, bindings)).map(toRecordedEvent);
  }

  watchAppends(wake: () => void): () => void {
    return this.notifier.add(wake);
  }

  /**
   * Whether committed events after `after` exist, including those readAll still holds back because
   * a transaction older than theirs runs. That transaction may append nothing (any writer holds the
   * horizon back), so no NOTIFY may follow when it ends: a reader that got true right after reading
   * all it could must look again by itself. Not limited to held-back events on purpose: the
   * horizon may move between the reader's read and this question, and then the events are
   * readable, but no less unread.
   */
  async hasEventsAfter(after: GlobalPosition | undefined): Promise<boolean> {
    const conditions: string[] = ['true'];
    const bindings: string[] = [];
    if (after) {
      conditions.push('(transaction_id, global_position) > (?::xid8, ?::bigint)');
      bindings.push(String(after.commit), String(after.prepare));
    }
    const rows = rowsOf(await this.knex.raw(`SELECT EXISTS (SELECT 1 FROM eventstore.events WHERE ${conditions.join(' AND ')}) AS pending`, bindings));
    return pendingRows.parse(rows)[0]?.pending ?? false;
  }

  subscribeToAll(options: SubscribeToAllOptions): Subscription {
    const subscription = new PollingSubscription(options, {
      readPage: (after, maxCount) => this.readAll({ after, maxCount }),
      hasEventsAfter: (after) => this.hasEventsAfter(after),
      registerWake: (wake) => this.notifier.add(wake),
      pageSize: this.pageSize,
      pollIntervalMs: this.pollIntervalMs,
      logger: this.logger,
    });
    this.subscriptions.add(subscription);
    return {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  async ping(): Promise<void> {
    await this.knex.raw('SELECT 1');
  }

  async identity(): Promise<StoreIdentity> {
    const rows = rowsOf(await this.knex.raw('SELECT instance_id::text AS instance_id FROM eventstore.store_identity'));
    const row = z.array(z.object({ instance_id: z.string() })).parse(rows)[0];
    if (!row) throw new Error('eventstore.store_identity is empty: run the event store migration (migrateEventStoreSchema)');
    return { kind: 'postgres', instanceId: row.instance_id };
  }

  async close(): Promise<void> {
    const running = [...this.subscriptions];
    this.subscriptions.clear();
    await Promise.all(running.map((subscription) => subscription.stop()));
    await this.notifier.close();
  }
}

/**
 * Locks the stream's row for the rest of the transaction and returns its revision, in one
 * statement. A new stream's row is created with revision -1 (rolled back with the transaction if
 * the append fails); a concurrent creator makes ON CONFLICT wait for the other transaction, then we
 * lock its row.
 */
async function lockStream(trx: Knex.Transaction, streamId: string): Promise<CurrentRevision> {
  const rows = rowsOf(
    await trx.raw(
      `INSERT INTO eventstore.streams AS s (stream_id, current_revision) VALUES (?, -1)
       ON CONFLICT (stream_id) DO UPDATE SET current_revision = s.current_revision
       RETURNING current_revision::text AS current_revision`,
      [streamId],
    ),
  );
  const revision = streamRevisionRow.parse(rows[0]).current_revision;
  return revision < 0n ? 'no_stream' : revision;
}

/**
 * A retried append: every id is already stored, as consecutive events of this stream in the same
 * order. Returns the original result. Ids stored in any other arrangement are a conflict.
 */
async function findRetriedAppend(
  trx: Knex.Transaction,
  streamId: string,
  ids: string[],
  expectedRevision: ExpectedRevision,
  current: CurrentRevision,
): Promise<AppendResult | undefined> {
  const stored = rowsOf(
    await trx.raw(`SELECT ${EVENT_COLUMNS} FROM eventstore.events WHERE event_id = ANY(?::uuid[]) ORDER BY events.stream_id, events.revision`, [
      `{${ids.join(',')}}`,
    ]),
  ).map(toRecordedEvent);
  if (stored.length === 0) return undefined;
  const elsewhere = stored.find((event) => event.streamId !== streamId);
  if (elsewhere) throw new Error(`append to ${streamId}: event id ${elsewhere.id} is already stored in stream ${elsewhere.streamId}`);
  const sameBatch =
    stored.length === ids.length &&
    stored.every((event, index) => event.id === ids[index] && event.revision === stored[0].revision + BigInt(index));
  if (!sameBatch) throw new WrongExpectedRevisionError(streamId, expectedRevision, current);
  const last = stored[stored.length - 1];
  return { nextExpectedRevision: last.revision, position: last.position };
}

function satisfies(expected: ExpectedRevision, current: CurrentRevision): boolean {
  return (
    expected === 'any' ||
    (expected === 'no_stream' && current === 'no_stream') ||
    (expected === 'stream_exists' && current !== 'no_stream') ||
    (typeof expected === 'bigint' && current === expected)
  );
}

function assertExpectedRevision(streamId: string, expected: ExpectedRevision, current: CurrentRevision): void {
  if (!satisfies(expected, current)) throw new WrongExpectedRevisionError(streamId, expected, current);
}

/** The fast path met an event id already stored: the append is decided again, asking whether it is a retry. */
class StoredIdMet extends Error {
  constructor(streamId: string, cause: unknown) {
    super(`append to ${streamId}: an event id is already stored`, { cause });
  }
}
