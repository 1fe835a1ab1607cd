/**
 * The embedded MessageBus: no broker, but durable. The log and the groups' committed offsets live
 * in PostgreSQL (schema `bus`), because the relay checkpoints once `publish` resolved and a crash
 * must not lose what a consumer has not handled yet. docs/bus.md has the design.
 *
 * Push, not poll: a publish NOTIFYs `bus_published` (the topic) in its transaction and a group
 * change NOTIFYs `bus_group_changed` (the group id), so consumers in every process sharing the
 * database wake at once. One tick per bus (heartbeatIntervalMs / pollIntervalMs) renews all of the
 * process's members and leases in one transaction and, as a safety net, wakes members whose
 * partitions hold messages that no notification announced. An idle bus costs one transaction a tick.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Logger } from '../logging/logger';
import { postgresListenerOf, type ChannelListener } from '../database/postgres-listener';
import { GROUP_CHANGED_EVENT, InProcessConsumer, partitionKey, PUBLISHED_EVENT, type ConsumerTiming, type PartitionEnd, type TickView } from './in-process-consumer';
import type { ConsumerStatus } from './consumer-status';
import { InProcessOffsetCommits } from './in-process-offset-commits';
import { errorText } from './delivery';
import type { Consumer, ConsumerOptions, DeliveredMessage, MessageBus, OutgoingMessage, TopicMessages } from './message-bus';

/**
 * NOTIFY channels: a committed publish (payload: JSON `{"t": topic, "p": partition, "e": next offset}`,
 * so consumers know which partition grew to where without asking; a bare topic is also understood)
 * and a group membership change (payload: group id).
 */
const PUBLISHED_CHANNEL = 'bus_published';
const GROUP_CHANGED_CHANNEL = 'bus_group_changed';

export interface InProcessMessageBusOptions extends Partial<ConsumerTiming> {
  /** Partitions of each topic this bus creates. Default 4. */
  partitions?: number;
  /** Prepended to every consumer group id (see MessageBus namespacing). Default ''. */
  groupNamespace?: string;
  /** How long a topic that no group consumes keeps its messages. Default 7 days (Kafka's default). */
  unconsumedRetentionSec?: number;
}

const DEFAULT_PARTITIONS = 4;
/** Rows per INSERT: well under PostgreSQL's 65535 bind parameters at 5 per row. */
const INSERT_CHUNK_ROWS = 1000;

const MIGRATION = [
  `CREATE SCHEMA IF NOT EXISTS bus`,
  // One row per topic partition; locking it while appending hands out offsets without gaps.
  `CREATE TABLE IF NOT EXISTS bus.partitions (
     topic text NOT NULL,
     partition integer NOT NULL,
     next_offset bigint NOT NULL DEFAULT 0,
     PRIMARY KEY (topic, partition))`,
  `CREATE TABLE IF NOT EXISTS bus.messages (
     topic text NOT NULL,
     partition integer NOT NULL,
     "offset" bigint NOT NULL,
     key text NOT NULL,
     value text NOT NULL,
     headers jsonb NOT NULL DEFAULT '{}'::jsonb,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (topic, partition, "offset"))`,
  // committed_offset is the next offset to handle (as in Kafka). The lease says which member of
  // the group handles the partition now; it expires if that member's process dies.
  `CREATE TABLE IF NOT EXISTS bus.group_offsets (
     group_id text NOT NULL,
     topic text NOT NULL,
     partition integer NOT NULL,
     committed_offset bigint NOT NULL,
     lease_owner text,
     lease_expires_at timestamptz,
     PRIMARY KEY (group_id, topic, partition))`,
  `CREATE INDEX IF NOT EXISTS group_offsets_by_topic ON bus.group_offsets (topic, partition)`,
  `ALTER TABLE bus.group_offsets ADD COLUMN IF NOT EXISTS ephemeral boolean NOT NULL DEFAULT false`,
  `CREATE TABLE IF NOT EXISTS bus.group_members (
     group_id text NOT NULL,
     member_id text NOT NULL,
     expires_at timestamptz NOT NULL,
     PRIMARY KEY (group_id, member_id))`,
];

const heldRow = z.object({ lease_owner: z.string(), topic: z.string(), partition: z.number().int() });
const liveRow = z.object({ group_id: z.string(), members: z.string() });
const endRow = z.object({ topic: z.string(), partition: z.number().int(), next_offset: z.union([z.string(), z.number()]).transform((v) => BigInt(v)) });
const partitionCountRow = z.object({ topic: z.string(), partitions: z.coerce.number().int().positive() });
const offsetRow = z.object({ offset: z.union([z.string(), z.number()]).transform((v) => BigInt(v)) });

export class InProcessMessageBus implements MessageBus {
  /** Wakes this process's consumers on publish and on group membership changes. */
  readonly wakeups = new EventEmitter();
  private readonly logger: Logger;
  private readonly partitionsPerTopic: number;
  private readonly timing: ConsumerTiming;
  private readonly partitionCounts = new Map<string, number>();
  private readonly consumers = new Set<InProcessConsumer>();

  private readonly groupNamespace: string;
  private readonly unconsumedRetentionSec: number;
  private readonly channels: ChannelListener[] = [];
  private tickTimer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private dirty = false;
  private lastTrim = Date.now();
  /** This process's publishes in flight: a notification that comes while one runs waits for it (see startListening). */
  private readonly publishing = new Set<Promise<unknown>>();
  /** Every consumer's offset commits, grouped into one statement at a time. */
  private readonly offsetCommits: InProcessOffsetCommits;

  constructor(
    private readonly db: Knex,
    logger: Logger,
    options: InProcessMessageBusOptions = {},
  ) {
    this.logger = logger.child({ component: 'in-process-bus' });
    this.offsetCommits = new InProcessOffsetCommits(db);
    this.partitionsPerTopic = options.partitions ?? DEFAULT_PARTITIONS;
    this.groupNamespace = options.groupNamespace ?? '';
    this.unconsumedRetentionSec = options.unconsumedRetentionSec ?? 7 * 24 * 3600;
    this.timing = {
      pollIntervalMs: options.pollIntervalMs ?? 2000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 2000,
      leaseTtlMs: options.leaseTtlMs ?? 10_000,
      joinTimeoutMs: options.joinTimeoutMs ?? 3000,
      trimIntervalMs: options.trimIntervalMs ?? 30_000,
    };
    // Every consumer listens; the default limit of 10 would warn about a leak that is not one.
    this.wakeups.setMaxListeners(0);
  }

  /** Creates the `bus` schema and tables (idempotent; safe when several processes start at once). */
  async migrate(): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('bus.migrate'))`);
      for (const statement of MIGRATION) await trx.raw(statement);
    });
  }

  async ensureTopics(topics: string[]): Promise<void> {
    await this.createTopics(this.db, topics);
  }

  /** `executor` is the caller's transaction when there is one: a second pooled connection could deadlock the pool. */
  private async createTopics(executor: Knex | Knex.Transaction, topics: string[]): Promise<void> {
    const unique = [...new Set(topics)];
    if (unique.length === 0) return;
    await executor.raw(
      `INSERT INTO bus.partitions (topic, partition)
       SELECT t.topic, p.partition
       FROM jsonb_array_elements_text(?::jsonb) AS t(topic)
       CROSS JOIN generate_series(0, ? - 1) AS p(partition)
       ON CONFLICT (topic, partition) DO NOTHING`,
      [JSON.stringify(unique), this.partitionsPerTopic],
    );
    // Another process may have created a topic with a different count: its count wins.
    const counted = await executor.raw<{ rows: unknown[] }>(
      `SELECT topic, count(*) AS partitions FROM bus.partitions
       WHERE topic IN (SELECT jsonb_array_elements_text(?::jsonb)) GROUP BY topic`,
      [JSON.stringify(unique)],
    );
    for (const row of counted.rows.map((r) => partitionCountRow.parse(r))) this.partitionCounts.set(row.topic, row.partitions);
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.publishAll([{ topic, messages }]);
  }

  /** Every topic in one transaction. */
  async publishAll(batches: TopicMessages[]): Promise<void> {
    const publishing = this.publishInOne(batches);
    this.publishing.add(publishing);
    try {
      await publishing;
    } finally {
      this.publishing.delete(publishing);
    }
  }

  private async publishInOne(batches: TopicMessages[]): Promise<void> {
    const nonEmpty = batches.filter((batch) => batch.messages.length > 0);
    if (nonEmpty.length === 0) return;
    // Outside the transaction: cached after the first time.
    for (const { topic } of nonEmpty) await this.partitionCountOf(topic, this.db);
    const parts = nonEmpty.flatMap(({ topic, messages }) => this.byPartition(topic, messages));
    // One partition (a command's event, usually) is one statement, its own transaction; several
    // share one transaction, so the publish stays atomic.
    const ends =
      parts.length === 1
        ? [await this.appendPartition(this.db, parts[0]!)]
        : await this.db.transaction(async (trx) => {
            const grown: PartitionEnd[] = [];
            for (const part of parts) grown.push(await this.appendPartition(trx, part));
            return grown;
          });
    for (const { topic } of nonEmpty) {
      this.published(
        topic,
        ends.filter((_, index) => parts[index]!.topic === topic),
      );
    }
  }

  /**
   * After a commit that appended to `topic` (the partitions' new ends, when known): its NOTIFY wakes
   * every process; without a listener, wake ours. Ends that carry the committed messages go to this
   * process's consumers at once, so they handle them without reading them back (the NOTIFY that
   * follows then finds them done).
   */
  private published(topic: string, ends?: PartitionEnd[]): void {
    this.dirty = true;
    const carried = ends !== undefined && ends.some((end) => end.messages !== undefined);
    if (carried || !this.listener().isListening(PUBLISHED_CHANNEL)) this.wakeups.emit(PUBLISHED_EVENT, topic, ends);
  }

  private listener() {
    return postgresListenerOf(this.db, this.logger);
  }

  /** Tells the group's members in every process (NOTIFY) or, without a listener, in this one. */
  private async announceGroupChange(groupId: string): Promise<void> {
    if (this.listener().isListening(GROUP_CHANGED_CHANNEL)) await this.db.raw('SELECT pg_notify(?, ?)', [GROUP_CHANGED_CHANNEL, groupId]);
    else this.wakeups.emit(GROUP_CHANGED_EVENT, groupId);
  }

  /** Listens and ticks while this bus has consumers. */
  private async startListening(): Promise<void> {
    if (this.channels.length > 0) return;
    const listener = this.listener();
    const wakeEveryone = (): void => {
      for (const consumer of this.consumers) void consumer.heartbeat();
      void this.tick();
    };
    this.channels.push(
      listener.listen(
        PUBLISHED_CHANNEL,
        (payload) => {
          const published = publishedPayloadOf(payload);
          const wake = (): boolean => this.wakeups.emit(PUBLISHED_EVENT, published.topic, published.ends);
          // The notification of our own publish may overtake its answer, which carries the messages
          // to our consumers: while one of ours runs, wake after it (one round trip at most), so they
          // take the messages from memory instead of reading them.
          if (this.publishing.size === 0) wake();
          else void Promise.allSettled([...this.publishing]).then(wake);
        },
        wakeEveryone,
      ),
      listener.listen(GROUP_CHANGED_CHANNEL, (groupId) => this.wakeups.emit(GROUP_CHANGED_EVENT, groupId)),
    );
    await Promise.all(this.channels.map((channel) => channel.ready));
    const intervalMs = Math.min(this.timing.heartbeatIntervalMs, this.timing.pollIntervalMs);
    this.tickTimer = setInterval(() => void this.tick(), intervalMs);
    this.tickTimer.unref();
  }

  private stopListening(): void {
    clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    for (const channel of this.channels.splice(0)) channel.close();
  }

  /**
   * One transaction for every member of this process: renew memberships and leases, read the
   * groups' members, the partitions nobody holds and the partition ends. Members whose group changed
   * or who lost a lease rebalance; members with messages no wake-up announced are woken. Trims now
   * and then, when something was published or committed since.
   */
  private tick(): Promise<void> {
    this.ticking ??= this.tickOnce()
      .catch((error: unknown) => this.logger.warn({ error: errorText(error) }, 'bus tick failed'))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    const consumers = [...this.consumers].filter((consumer) => consumer.running);
    if (consumers.length === 0) return;
    const members = consumers.map((consumer) => consumer.member);
    const groups = [...new Set(members.map((m) => m.groupId))];
    const topics = [...new Set(members.flatMap((m) => m.topics))];
    const ttl = this.timing.leaseTtlMs;
    const found = await this.db.transaction(async (trx) => {
      await trx.raw(
        `INSERT INTO bus.group_members (group_id, member_id, expires_at)
         SELECT r.group_id, r.member_id, now() + ? * interval '1 millisecond' FROM jsonb_to_recordset(?::jsonb) AS r(group_id text, member_id text)
         ON CONFLICT (group_id, member_id) DO UPDATE SET expires_at = excluded.expires_at`,
        [ttl, JSON.stringify(members.map(({ groupId, memberId }) => ({ group_id: groupId, member_id: memberId })))],
      );
      const held = await trx.raw<{ rows: unknown[] }>(
        `UPDATE bus.group_offsets SET lease_expires_at = now() + ? * interval '1 millisecond'
         WHERE lease_owner = ANY(?::text[]) AND lease_expires_at >= now() RETURNING lease_owner, topic, partition`,
        [ttl, members.map((m) => m.memberId)],
      );
      const live = await trx.raw<{ rows: unknown[] }>(
        `SELECT group_id, string_agg(member_id, ',' ORDER BY member_id) AS members FROM bus.group_members
         WHERE group_id = ANY(?::text[]) AND expires_at > now() GROUP BY group_id`,
        [groups],
      );
      const unheld = await trx.raw<{ rows: unknown[] }>(
        `SELECT DISTINCT group_id FROM bus.group_offsets
         WHERE group_id = ANY(?::text[]) AND (lease_owner IS NULL OR lease_expires_at < now())`,
        [groups],
      );
      const ends = await trx.raw<{ rows: unknown[] }>(`SELECT topic, partition, next_offset FROM bus.partitions WHERE topic = ANY(?::text[])`, [topics]);
      return { held: held.rows, live: live.rows, unheld: unheld.rows, ends: ends.rows };
    });
    const heldBy = new Map<string, Set<string>>();
    for (const row of found.held.map((r) => heldRow.parse(r))) {
      const set = heldBy.get(row.lease_owner) ?? new Set<string>();
      set.add(partitionKey(row.topic, row.partition));
      heldBy.set(row.lease_owner, set);
    }
    const membersOf = new Map(found.live.map((r) => liveRow.parse(r)).map((r) => [r.group_id, r.members]));
    const unheldGroups = new Set(found.unheld.map((r) => z.object({ group_id: z.string() }).parse(r).group_id));
    const ends = new Map(found.ends.map((r) => endRow.parse(r)).map((r) => [partitionKey(r.topic, r.partition), r.next_offset]));
    for (const consumer of consumers) {
      const { groupId, memberId } = consumer.member;
      const view: TickView = { members: membersOf.get(groupId) ?? '', unheld: unheldGroups.has(groupId), held: heldBy.get(memberId) ?? new Set(), ends };
      consumer.onTick(view);
    }
    if (this.dirty && Date.now() - this.lastTrim >= this.timing.trimIntervalMs) {
      this.dirty = false;
      this.lastTrim = Date.now();
      await this.trim(topics);
    }
  }

  /**
   * Appends inside the caller's transaction (the dead-letter path appends and commits in one).
   * Each partition row is locked by the UPDATE until commit, so a later transaction gets later
   * offsets and commits after this one: a reader never sees offset n+1 before offset n.
   */
  async append(trx: Knex.Transaction, topic: string, messages: OutgoingMessage[]): Promise<PartitionEnd[]> {
    await this.partitionCountOf(topic, trx);
    const ends: PartitionEnd[] = [];
    for (const part of this.byPartition(topic, messages)) ends.push(await this.appendPartition(trx, part));
    return ends;
  }

  /** The messages of a topic by partition, in ascending partition order: two publishers locking the same partitions cannot deadlock. */
  private byPartition(topic: string, messages: OutgoingMessage[]): PartitionBatch[] {
    const partitionCount = this.partitionCounts.get(topic);
    if (partitionCount === undefined) throw new Error(`bus topic ${topic}: partition count unknown`);
    const byPartition = new Map<number, OutgoingMessage[]>();
    for (const message of messages) {
      const partition = partitionOfKey(message.key, partitionCount);
      const batch = byPartition.get(partition);
      if (batch) batch.push(message);
      else byPartition.set(partition, [message]);
    }
    return [...byPartition.keys()].sort((a, b) => a - b).map((partition) => ({ topic, partition, messages: byPartition.get(partition)! }));
  }

  /**
   * One partition's messages, in one statement per INSERT_CHUNK_ROWS messages: the partition row
   * moves its end (and stays locked until commit), the notification with the new end is queued
   * (delivered on commit, to every process sharing the database), and the messages are inserted at
   * the offsets before that end. `executor` is a transaction, or the pool for a publish of one statement.
   */
  private async appendPartition(executor: Knex | Knex.Transaction, { topic, partition, messages }: PartitionBatch): Promise<PartitionEnd> {
    let end: bigint | undefined;
    for (let start = 0; start < messages.length; start += INSERT_CHUNK_ROWS) {
      const chunk = messages.slice(start, start + INSERT_CHUNK_ROWS);
      const bindings: Array<string | number> = [chunk.length, topic, partition, PUBLISHED_CHANNEL];
      const values = chunk.map((message, index) => {
        bindings.push(index, message.key, message.value, JSON.stringify(message.headers ?? {}));
        return '(?::integer, ?, ?, ?::jsonb)';
      });
      const inserted = await executor.raw<{ rows: unknown[] }>(
        `WITH grown AS (
           UPDATE bus.partitions SET next_offset = next_offset + ? WHERE topic = ? AND partition = ?
           RETURNING topic, partition, next_offset,
             pg_notify(?, json_build_object('t', topic, 'p', partition, 'e', next_offset::text)::text))
         INSERT INTO bus.messages (topic, partition, "offset", key, value, headers)
         SELECT grown.topic, grown.partition, grown.next_offset - ${chunk.length} + m.i, m.key, m.value, m.headers
         FROM grown CROSS JOIN (VALUES ${values.join(', ')}) AS m(i, key, value, headers)
         RETURNING "offset"`,
        bindings,
      );
      if (inserted.rows.length !== chunk.length) throw new Error(`bus topic ${topic} has no partition ${partition}`);
      end = inserted.rows.map((row) => offsetRow.parse(row).offset).reduce((a, b) => (b > a ? b : a)) + 1n;
    }
    if (end === undefined) throw new Error(`bus topic ${topic}: nothing to append to partition ${partition}`);
    // Chunks follow one another under the partition's lock: the messages sit at the offsets before the end.
    const first = end - BigInt(messages.length);
    const committed = messages.map(
      (message, index): DeliveredMessage => ({ topic, partition, offset: (first + BigInt(index)).toString(), key: message.key, value: message.value, headers: message.headers ?? {} }),
    );
    return { partition, end, messages: committed };
  }

  async subscribe(options: ConsumerOptions): Promise<Consumer> {
    const consumer = new InProcessConsumer({ ...options, groupId: `${this.groupNamespace}${options.groupId}` }, {
      db: this.db,
      logger: this.logger,
      wakeups: this.wakeups,
      timing: this.timing,
      ensureTopics: (topics) => this.ensureTopics(topics),
      append: (trx, topic, messages) => this.append(trx, topic, messages),
      announceGroupChange: (groupId) => this.announceGroupChange(groupId),
      published: (topic) => this.published(topic),
      markDirty: () => void (this.dirty = true),
      commitOffset: (commit) => this.offsetCommits.commit(commit),
    });
    await this.startListening();
    try {
      await consumer.start();
    } catch (error) {
      if (this.consumers.size === 0) this.stopListening();
      throw error;
    }
    this.consumers.add(consumer);
    return {
      stop: async () => {
        this.consumers.delete(consumer);
        await consumer.stop();
        if (this.consumers.size === 0) this.stopListening();
      },
    };
  }

  consumerStatuses(): ConsumerStatus[] {
    return [...this.consumers].map((consumer) => consumer.status());
  }

  async groupLag(groupId: string, topics: string[]): Promise<number> {
    const result = await this.db.raw<{ rows: unknown[] }>(
      `SELECT coalesce(sum(p.next_offset - coalesce(o.committed_offset, 0)), 0) AS lag
       FROM bus.partitions p
       LEFT JOIN bus.group_offsets o ON o.group_id = ? AND o.topic = p.topic AND o.partition = p.partition
       WHERE p.topic IN (SELECT jsonb_array_elements_text(?::jsonb))`,
      [`${this.groupNamespace}${groupId}`, JSON.stringify(topics)],
    );
    return z.object({ lag: z.coerce.number() }).parse(result.rows[0]).lag;
  }

  /**
   * Deletes messages every group on their topic has committed. Groups that exist keep what they
   * have not handled; a topic no group consumes keeps everything. Returns the rows deleted.
   */
  async trim(topics?: string[]): Promise<number> {
    // Ephemeral groups whose members are all gone (stopped, or dead past their expiry) hold nothing back.
    await this.db.raw(
      `DELETE FROM bus.group_offsets o WHERE o.ephemeral
         AND NOT EXISTS (SELECT 1 FROM bus.group_members m WHERE m.group_id = o.group_id AND m.expires_at > now())`,
    );
    // A topic no group reads (dead letters, streams nobody projects) keeps messages for a retention
    // period, as Kafka's retention.ms would, instead of forever.
    const expired = await this.db.raw<{ rowCount: number | null }>(
      `DELETE FROM bus.messages m
       WHERE m.created_at < now() - ? * interval '1 second'
         AND (?::jsonb IS NULL OR m.topic IN (SELECT jsonb_array_elements_text(?::jsonb)))
         AND NOT EXISTS (SELECT 1 FROM bus.group_offsets g WHERE g.topic = m.topic)`,
      [this.unconsumedRetentionSec, topics ? JSON.stringify(topics) : null, topics ? JSON.stringify(topics) : null],
    );
    const result = await this.db.raw<{ rowCount: number | null }>(
      `DELETE FROM bus.messages m
       USING (SELECT topic, partition, min(committed_offset) AS low FROM bus.group_offsets
              WHERE ?::jsonb IS NULL OR topic IN (SELECT jsonb_array_elements_text(?::jsonb))
              GROUP BY topic, partition) g
       WHERE m.topic = g.topic AND m.partition = g.partition AND m."offset" < g.low`,
      [topics ? JSON.stringify(topics) : null, topics ? JSON.stringify(topics) : null],
    );
    return (result.rowCount ?? 0) + (expired.rowCount ?? 0);
  }

  async ping(): Promise<void> {
    await this.db.raw('select 1');
  }

  /** Stops this bus's consumers. The Knex instance belongs to the caller and stays open. */
  async close(): Promise<void> {
    const consumers = [...this.consumers];
    this.consumers.clear();
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    this.stopListening();
    await this.ticking;
  }

  private async partitionCountOf(topic: string, executor: Knex | Knex.Transaction): Promise<number> {
    let count = this.partitionCounts.get(topic);
    if (count === undefined) {
      // Like Kafka's auto.create.topics.enable: publishing to a new topic creates it.
      await this.createTopics(executor, [topic]);
      count = this.partitionCounts.get(topic);
    }
    if (count === undefined) throw new Error(`bus topic ${topic} could not be created`);
    return count;
  }
}

interface PartitionBatch {
  topic: string;
  partition: number;
  messages: OutgoingMessage[];
}

const publishedPayload = z.object({ t: z.string(), p: z.number().int().nonnegative(), e: z.string().regex(/^\d+$/) });

/** A `bus_published` payload: the topic, and the partition's new end when the payload names it (a bare topic does not). */
export function publishedPayloadOf(payload: string): { topic: string; ends?: PartitionEnd[] } {
  if (payload.startsWith('{')) {
    try {
      const parsed = publishedPayload.parse(JSON.parse(payload));
      return { topic: parsed.t, ends: [{ partition: parsed.p, end: BigInt(parsed.e) }] };
    } catch {
      // not one of ours: taken as a bare topic below, which wakes nobody unless it names a topic
    }
  }
  return { topic: payload };
}

/** FNV-1a over the key's UTF-8 bytes: the same key maps to the same partition in every process. */
export function partitionOfKey(key: string, partitionCount: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitionCount;
}
