/**
 * The embedded MessageBus: no broker, but durable. The log and the groups' committed offsets live
 * in PostgreSQL (schema `bus`), because the relay checkpoints once `publish` resolved and a crash
 * must not lose what a consumer has not handled yet. Consumers are woken in-process on publish and
 * also poll, so several processes sharing the database work too. docs/bus.md has the design.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Logger } from '../logging/logger';
import { InProcessConsumer, PUBLISHED_EVENT, type ConsumerTiming } from './in-process-consumer';
import type { ConsumerStatus } from './consumer-status';
import type { Consumer, ConsumerOptions, MessageBus, OutgoingMessage } from './message-bus';

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

const partitionCountRow = z.object({ topic: z.string(), partitions: z.coerce.number().int().positive() });
const nextOffsetRow = z.object({ next_offset: z.union([z.string(), z.number()]).transform((v) => BigInt(v)) });

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

  constructor(
    private readonly db: Knex,
    logger: Logger,
    options: InProcessMessageBusOptions = {},
  ) {
    this.logger = logger.child({ component: 'in-process-bus' });
    this.partitionsPerTopic = options.partitions ?? DEFAULT_PARTITIONS;
    this.groupNamespace = options.groupNamespace ?? '';
    this.unconsumedRetentionSec = options.unconsumedRetentionSec ?? 7 * 24 * 3600;
    this.timing = {
      pollIntervalMs: options.pollIntervalMs ?? 200,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
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
    if (messages.length === 0) return;
    await this.partitionCountOf(topic, this.db); // outside the transaction: it is cached after the first time
    await this.db.transaction((trx) => this.append(trx, topic, messages));
    this.wakeups.emit(PUBLISHED_EVENT, topic);
  }

  /**
   * Appends inside the caller's transaction (the dead-letter path appends and commits in one).
   * Each partition row is locked by the UPDATE until commit, so a later transaction gets later
   * offsets and commits after this one: a reader never sees offset n+1 before offset n.
   */
  async append(trx: Knex.Transaction, topic: string, messages: OutgoingMessage[]): Promise<void> {
    const partitionCount = await this.partitionCountOf(topic, trx);
    const byPartition = new Map<number, OutgoingMessage[]>();
    for (const message of messages) {
      const partition = partitionOfKey(message.key, partitionCount);
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), message]);
    }
    // Ascending partition order: two publishers locking the same partitions cannot deadlock.
    for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
      const batch = byPartition.get(partition) ?? [];
      const updated = await trx.raw<{ rows: unknown[] }>(
        `UPDATE bus.partitions SET next_offset = next_offset + ? WHERE topic = ? AND partition = ? RETURNING next_offset`,
        [batch.length, topic, partition],
      );
      if (updated.rows.length !== 1) throw new Error(`bus topic ${topic} has no partition ${partition}`);
      const firstOffset = nextOffsetRow.parse(updated.rows[0]).next_offset - BigInt(batch.length);
      const rows = batch.map((message, index) => ({
        topic,
        partition,
        offset: (firstOffset + BigInt(index)).toString(),
        key: message.key,
        value: message.value,
        headers: JSON.stringify(message.headers ?? {}),
      }));
      for (let start = 0; start < rows.length; start += INSERT_CHUNK_ROWS) {
        await trx.withSchema('bus').table('messages').insert(rows.slice(start, start + INSERT_CHUNK_ROWS));
      }
    }
  }

  async subscribe(options: ConsumerOptions): Promise<Consumer> {
    const consumer = new InProcessConsumer({ ...options, groupId: `${this.groupNamespace}${options.groupId}` }, {
      db: this.db,
      logger: this.logger,
      wakeups: this.wakeups,
      timing: this.timing,
      ensureTopics: (topics) => this.ensureTopics(topics),
      append: (trx, topic, messages) => this.append(trx, topic, messages),
      trim: (topics) => this.trim(topics),
    });
    await consumer.start();
    this.consumers.add(consumer);
    return {
      stop: async () => {
        this.consumers.delete(consumer);
        await consumer.stop();
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

/** FNV-1a over the key's UTF-8 bytes: the same key maps to the same partition in every process. */
export function partitionOfKey(key: string, partitionCount: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitionCount;
}
