/**
 * One member of a consumer group on the in-process bus. Members of a group, in this process or in
 * others sharing the database, split the partitions through leases in bus.group_offsets: the live
 * members (bus.group_members, renewed by heartbeat) are sorted, partition i goes to member
 * i mod count, and a member only handles partitions whose lease it holds. A member hands a
 * partition over only between messages, after the commit, so in the happy path no message is
 * handled twice; a member whose process died loses its leases when they expire.
 *
 * Nothing here polls. The loop sleeps until woken: by a publish (NOTIFY `bus_published`, or
 * in-process when nobody listens), by new partitions, or by the bus's tick, which renews every
 * member of the process in one transaction and wakes members whose partitions hold messages that
 * no wake-up announced (InProcessMessageBus.tick).
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Logger } from '../logging/logger';
import type { ConsumerStatus } from './consumer-status';
import { abortableDelay, deadLetterMessage, deliverWithRetries, errorText, retryPolicyOf, type RetryPolicy } from './delivery';
import type { Consumer, ConsumerOptions, DeliveredMessage, OutgoingMessage } from './message-bus';
import { PublishedMessages } from './in-process-published';
import type { OffsetCommit } from './in-process-offset-commits';

export interface ConsumerTiming {
  /** How often the bus looks for messages no wake-up announced (a safety net; NOTIFY wakes consumers). */
  pollIntervalMs: number;
  /** How often the bus renews its members and leases (one transaction for all consumers of the process). */
  heartbeatIntervalMs: number;
  /** A member (and its leases) that has not renewed for this long is presumed dead. */
  leaseTtlMs: number;
  /** Longest `subscribe` waits for the other members to hand over this member's share. */
  joinTimeoutMs: number;
  trimIntervalMs: number;
}

export interface ConsumerDeps {
  db: Knex;
  logger: Logger;
  wakeups: EventEmitter;
  timing: ConsumerTiming;
  ensureTopics(topics: string[]): Promise<void>;
  append(trx: Knex.Transaction, topic: string, messages: OutgoingMessage[]): Promise<PartitionEnd[]>;
  /** Tells members of `groupId` in every process to rebalance (NOTIFY, or in-process). */
  announceGroupChange(groupId: string): Promise<void>;
  /** After a commit that appended to `topic`: wakes its consumers in this process unless NOTIFY does. */
  published(topic: string): void;
  /** Something was committed: the bus trims at its next tick. */
  markDirty(): void;
  /** Moves the group's offset while `memberId` holds the lease (grouped with other consumers' commits); false when it does not. */
  commitOffset(commit: OffsetCommit): Promise<boolean>;
}

/** What the bus's tick found for one member (InProcessMessageBus.tick). */
export interface TickView {
  /** The group's live members, sorted and joined: a change means the share changes. */
  members: string;
  /** The group has partitions that nobody holds (released, or their holder's lease expired). */
  unheld: boolean;
  /** Partitions whose lease this member still holds after the renewal. */
  held: Set<string>;
  /** Next offset to be written, per partition key. */
  ends: Map<string, bigint>;
}

/** A partition's next offset to be written, as a committed publish left it. */
export interface PartitionEnd {
  partition: number;
  end: bigint;
  /** The messages that publish committed at the offsets before `end`, when it ran in this process (PublishedMessages). */
  messages?: readonly DeliveredMessage[];
}

/**
 * Emitted on `wakeups` after a publish committed, with the topic and, when known, the partitions'
 * new ends (PartitionEnd[]): its consumers fetch at once, from those partitions without asking
 * which partitions hold messages.
 */
export const PUBLISHED_EVENT = 'published';
/** Emitted on `wakeups` with the group id when a member joins or hands partitions over. */
export const GROUP_CHANGED_EVENT = 'group-changed';
/** A batch read stops at this many messages or at this many bytes, whichever comes first. */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 8 * 1024 * 1024;

const offsetText = z.union([z.string(), z.number()]).transform((v) => BigInt(v));
const messageRow = z.object({ offset: offsetText, key: z.string(), value: z.string(), headers: z.record(z.string(), z.string()) });
const leaseRow = z.object({ topic: z.string(), partition: z.number().int(), committed_offset: offsetText });
const partitionRow = z.object({ topic: z.string(), partition: z.number().int() });
const memberRow = z.object({ member_id: z.string() });

interface OwnedPartition {
  topic: string;
  partition: number;
  /** Next offset to handle; only the lease holder moves it, so memory and database agree. */
  position: bigint;
  /** No longer this member's share: finish the running message, then hand it over. */
  releasing: boolean;
}

export const partitionKey = (topic: string, partition: number): string => `${partition}:${topic}`;

export class InProcessConsumer implements Consumer {
  private readonly memberId = randomUUID();
  private readonly policy: RetryPolicy;
  private readonly logger: Logger;
  private readonly stopSignal = new AbortController();
  private readonly owned = new Map<string, OwnedPartition>();
  /** The partition whose message is being handled right now, if any. */
  private busy?: string;
  private shareComplete = false;
  private heartbeatChain: Promise<void> = Promise.resolve();
  private loop?: Promise<void>;
  /** Set by a wake-up that came while the loop was busy, so it does not sleep past it. */
  private wakeRequested = false;
  /**
   * Set by a wake-up that did not say where partitions end (start, a gained partition, a bare
   * topic, a reconnection): the next round asks the database which held partitions have messages.
   */
  private probeRequested = true;
  /** Partition ends announced by committed publishes (and the tick): partitions past this member's position have messages. */
  private readonly announcedEnds = new Map<string, bigint>();
  /** What this process's publishes committed to held partitions: handled without reading it back. */
  private readonly publishedHere = new PublishedMessages();
  private endWait: () => void = () => undefined;
  private stopping?: Promise<void>;
  private lastMembers: string | undefined;
  private readonly deliverOne: (message: DeliveredMessage) => Promise<void>;
  private readonly startedAt = new Date();
  private lastHeartbeatAt?: Date;
  private lastError?: string;

  constructor(
    private readonly options: ConsumerOptions,
    private readonly deps: ConsumerDeps,
  ) {
    this.policy = retryPolicyOf(options);
    this.logger = deps.logger.child({ groupId: options.groupId, memberId: this.memberId });
    const { handler, batchHandler } = options;
    if ((handler === undefined) === (batchHandler === undefined)) throw new TypeError('a consumer takes exactly one of handler and batchHandler');
    this.deliverOne = handler ?? ((message) => (batchHandler ? batchHandler([message]) : Promise.resolve()));
  }

  get member(): { groupId: string; memberId: string; topics: string[] } {
    return { groupId: this.options.groupId, memberId: this.memberId, topics: this.options.topics };
  }

  get running(): boolean {
    return this.loop !== undefined && !this.stopSignal.signal.aborted;
  }

  /** The bus's tick: rebalance when the group changed or a lease was lost; wake for unannounced messages. */
  onTick(view: TickView): void {
    if (!this.running) return;
    this.lastHeartbeatAt = new Date();
    const lostLease = [...this.owned.keys()].some((key) => !view.held.has(key));
    if (view.members !== this.lastMembers || view.unheld || lostLease || !this.shareComplete) {
      this.logger.debug({ membersChanged: view.members !== this.lastMembers, unheld: view.unheld, lostLease, shareComplete: this.shareComplete }, 'tick: rebalancing');
      void this.heartbeat();
    }
    for (const [key, owned] of this.owned) {
      const end = view.ends.get(key);
      if (end !== undefined && end > owned.position) {
        this.logger.debug({ partition: key, end: end.toString(), position: owned.position.toString() }, 'tick: unannounced messages');
        this.announceEnd(key, end);
        this.wakeLoop(false);
      }
    }
  }

  /** Joins the group; resolves once this member holds its share of the partitions (or after joinTimeoutMs). */
  async start(): Promise<void> {
    try {
      await this.join();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private async join(): Promise<void> {
    const { topics, groupId } = this.options;
    await this.deps.ensureTopics([...topics, ...topics.map(this.policy.deadLetterTopic)]);
    // A group's first member fixes where it starts, on every partition, before anything is read.
    await this.deps.db.raw(
      `INSERT INTO bus.group_offsets (group_id, topic, partition, committed_offset, ephemeral)
       SELECT ?, topic, partition, CASE WHEN ? THEN 0 ELSE next_offset END, ? FROM bus.partitions
       WHERE topic IN (SELECT jsonb_array_elements_text(?::jsonb))
       ON CONFLICT (group_id, topic, partition) DO NOTHING`,
      [groupId, this.options.fromBeginning ?? true, this.options.ephemeral ?? false, JSON.stringify(topics)],
    );
    // Members of crashed processes never deleted their rows.
    await this.deps.db.raw(`DELETE FROM bus.group_members WHERE group_id = ? AND expires_at < now() - interval '1 minute'`, [groupId]);
    await this.rebalance(); // unlike later heartbeats, a failure here fails subscribe
    this.deps.wakeups.on(PUBLISHED_EVENT, this.onPublished);
    this.deps.wakeups.on(GROUP_CHANGED_EVENT, this.onGroupChanged);
    await this.deps.announceGroupChange(groupId);
    // Like a Kafka join: resolve once this member holds its share (others hand over when told).
    const deadline = Date.now() + this.deps.timing.joinTimeoutMs;
    while (!this.shareComplete && Date.now() < deadline) {
      await abortableDelay(50);
      await this.heartbeat();
    }
    this.loop = this.run();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopSignal.abort();
      this.wakeLoop();
      this.deps.wakeups.off(PUBLISHED_EVENT, this.onPublished);
      this.deps.wakeups.off(GROUP_CHANGED_EVENT, this.onGroupChanged);
      await this.loop; // the running handler finishes and commits first
      await this.heartbeatChain;
      this.owned.clear();
      this.publishedHere.clear();
      try {
        await this.deps.db.raw(`UPDATE bus.group_offsets SET lease_owner = NULL, lease_expires_at = NULL WHERE group_id = ? AND lease_owner = ?`, [
          this.options.groupId,
          this.memberId,
        ]);
        await this.deps.db.raw(`DELETE FROM bus.group_members WHERE group_id = ? AND member_id = ?`, [this.options.groupId, this.memberId]);
        if (this.options.ephemeral) {
          await this.deps.db.raw(
            `DELETE FROM bus.group_offsets WHERE group_id = ? AND ephemeral
               AND NOT EXISTS (SELECT 1 FROM bus.group_members WHERE group_id = ? AND expires_at > now())`,
            [this.options.groupId, this.options.groupId],
          );
        }
      } catch (error) {
        this.logger.warn({ error: errorText(error) }, 'could not release leases; they expire on their own');
      }
      await this.deps.announceGroupChange(this.options.groupId).catch(() => undefined);
    })();
    return this.stopping;
  }

  private readonly onPublished = (topic: string, ends?: PartitionEnd[]): void => {
    if (!this.options.topics.includes(topic)) return;
    if (ends === undefined) return this.wakeLoop();
    for (const { partition, end, messages } of ends) {
      const key = partitionKey(topic, partition);
      this.announceEnd(key, end);
      // Each consumer its own copies: a handler cannot change what another one sees.
      if (messages !== undefined && this.owned.has(key)) this.publishedHere.add(key, messages.map((message) => ({ ...message, headers: { ...message.headers } })));
    }
    this.wakeLoop(false);
  };

  private announceEnd(key: string, end: bigint): void {
    if (end > (this.announcedEnds.get(key) ?? -1n)) this.announcedEnds.set(key, end);
  }

  private readonly onGroupChanged = (groupId: string): void => {
    if (groupId === this.options.groupId && !this.stopSignal.signal.aborted) void this.heartbeat();
  };

  /** Running while it is a member; a heartbeat that fails leaves lastSeenAliveAt behind (not live). */
  status(): ConsumerStatus {
    const stopped = this.stopSignal.signal.aborted;
    return {
      groupId: this.options.groupId,
      topics: [...this.options.topics],
      state: stopped ? 'stopped' : this.loop ? 'running' : 'starting',
      stateSince: this.startedAt,
      ...(this.lastHeartbeatAt ? { lastSeenAliveAt: this.lastHeartbeatAt } : {}),
      restarts: 0,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Serialized: the timer, group changes and start() may all ask at once. */
  heartbeat(): Promise<void> {
    this.heartbeatChain = this.heartbeatChain
      .then(() => this.rebalance())
      .then(() => void (this.lastHeartbeatAt = new Date()))
      .catch((error: unknown) => {
        this.lastError = errorText(error);
        this.logger.warn({ error: errorText(error) }, 'bus heartbeat failed');
      });
    return this.heartbeatChain;
  }

  private async rebalance(): Promise<void> {
    if (this.stopSignal.signal.aborted) return;
    // One transaction for the whole exchange: idle cost is counted in transactions.
    const changed = await this.deps.db.transaction((trx) => this.rebalanceIn(trx));
    if (changed) await this.deps.announceGroupChange(this.options.groupId);
  }

  /** Returns whether this member released partitions (the others may take them now). */
  private async rebalanceIn(db: Knex.Transaction): Promise<boolean> {
    const { timing } = this.deps;
    const { groupId, topics } = this.options;
    await db.raw(
      `INSERT INTO bus.group_members (group_id, member_id, expires_at) VALUES (?, ?, now() + ? * interval '1 millisecond')
       ON CONFLICT (group_id, member_id) DO UPDATE SET expires_at = excluded.expires_at`,
      [groupId, this.memberId, timing.leaseTtlMs],
    );
    const members = (
      await db.raw<{ rows: unknown[] }>(`SELECT member_id FROM bus.group_members WHERE group_id = ? AND expires_at > now() ORDER BY member_id`, [groupId])
    ).rows.map((row) => memberRow.parse(row).member_id);
    this.lastMembers = members.join(',');
    const partitions = (
      await db.raw<{ rows: unknown[] }>(
        `SELECT topic, partition FROM bus.group_offsets WHERE group_id = ? AND topic IN (SELECT jsonb_array_elements_text(?::jsonb)) ORDER BY topic, partition`,
        [groupId, JSON.stringify(topics)],
      )
    ).rows.map((row) => partitionRow.parse(row));
    const myIndex = members.indexOf(this.memberId);
    const share = partitions.filter((_, i) => myIndex >= 0 && i % members.length === myIndex);
    const shareKeys = new Set(share.map((p) => partitionKey(p.topic, p.partition)));

    // Hand over what is no longer ours; a partition with a message in flight goes once that is done.
    const release: OwnedPartition[] = [];
    for (const [key, owned] of this.owned) {
      if (shareKeys.has(key)) owned.releasing = false;
      else if (this.busy === key) owned.releasing = true;
      else {
        this.owned.delete(key);
        this.publishedHere.drop(key);
        release.push(owned);
      }
    }
    if (release.length > 0) {
      await db.raw(
        `UPDATE bus.group_offsets o SET lease_owner = NULL, lease_expires_at = NULL
         FROM jsonb_to_recordset(?::jsonb) AS r(topic text, partition integer)
         WHERE o.group_id = ? AND o.topic = r.topic AND o.partition = r.partition AND o.lease_owner = ?`,
        [JSON.stringify(release.map(({ topic, partition }) => ({ topic, partition }))), groupId, this.memberId],
      );
    }

    // Take (or renew) the share, plus the partition still in flight.
    const wanted = [...share, ...[...this.owned.values()].filter((o) => o.releasing)];
    const leased = (
      await db.raw<{ rows: unknown[] }>(
        `UPDATE bus.group_offsets o SET lease_owner = ?, lease_expires_at = now() + ? * interval '1 millisecond'
         FROM jsonb_to_recordset(?::jsonb) AS r(topic text, partition integer)
         WHERE o.group_id = ? AND o.topic = r.topic AND o.partition = r.partition
           AND (o.lease_owner IS NULL OR o.lease_owner = ? OR o.lease_expires_at < now())
         RETURNING o.topic, o.partition, o.committed_offset`,
        [this.memberId, timing.leaseTtlMs, JSON.stringify(wanted.map(({ topic, partition }) => ({ topic, partition }))), groupId, this.memberId],
      )
    ).rows.map((row) => leaseRow.parse(row));
    const leasedKeys = new Set(leased.map((row) => partitionKey(row.topic, row.partition)));
    for (const [key] of this.owned) {
      if (!leasedKeys.has(key)) this.owned.delete(key); // expired and taken by another member
    }
    let gained = false;
    for (const row of leased) {
      const key = partitionKey(row.topic, row.partition);
      const known = this.owned.get(key);
      if (known) {
        // Ahead only if our lease lapsed and another member committed meanwhile: skip what it did.
        if (row.committed_offset > known.position && this.busy !== key) known.position = row.committed_offset;
        continue;
      }
      this.owned.set(key, { topic: row.topic, partition: row.partition, position: row.committed_offset, releasing: false });
      gained = true;
    }
    this.shareComplete = share.every((p) => this.owned.has(partitionKey(p.topic, p.partition)));
    if (gained) this.wakeLoop();
    return release.length > 0;
  }

  private async run(): Promise<void> {
    const signal = this.stopSignal.signal;
    while (!signal.aborted) {
      this.wakeRequested = false;
      const probe = this.probeRequested;
      this.probeRequested = false;
      let handled = 0;
      try {
        for (const owned of probe ? await this.partitionsWithMessages() : this.announcedPartitions()) {
          if (signal.aborted) break;
          handled += await this.drainBatch(owned);
        }
      } catch (error) {
        this.probeRequested = true;
        this.logger.warn({ error: errorText(error) }, 'bus consumer loop failed; retrying');
      }
      if (handled === 0 && !this.wakeRequested && !signal.aborted) await this.waitForWork();
    }
  }

  /**
   * The held partitions that have messages past this member's position: one query instead of one
   * read per partition (a projection of three categories holds twelve), when there are several.
   */
  private async partitionsWithMessages(): Promise<OwnedPartition[]> {
    const owned = [...this.owned.values()];
    if (owned.length <= 2) return owned;
    const result = await this.deps.db.raw<{ rows: unknown[] }>(
      `SELECT p.topic, p.partition FROM bus.partitions p
       JOIN jsonb_to_recordset(?::jsonb) AS o(topic text, partition integer, position bigint) ON o.topic = p.topic AND o.partition = p.partition
       WHERE p.next_offset > o.position`,
      [JSON.stringify(owned.map(({ topic, partition, position }) => ({ topic, partition, position: position.toString() })))],
    );
    const pending = new Set(result.rows.map((row) => partitionRow.parse(row)).map((row) => partitionKey(row.topic, row.partition)));
    return owned.filter((o) => pending.has(partitionKey(o.topic, o.partition)) || o.releasing);
  }

  /**
   * The held partitions whose announced end is past this member's position, without a query: a
   * committed publish announces its partitions' ends, and whatever no announcement covered (a lost
   * notification) is found by a probe (after a reconnection) or by the bus's tick.
   */
  private announcedPartitions(): OwnedPartition[] {
    return [...this.owned.entries()]
      .filter(([key, owned]) => owned.releasing || (this.announcedEnds.get(key) ?? -1n) > owned.position)
      .map(([, owned]) => owned);
  }

  /** `probe`: the next round asks which partitions have messages (false: the announced ends say it). */
  private wakeLoop(probe = true): void {
    if (probe) this.probeRequested = true;
    this.wakeRequested = true;
    this.endWait();
  }

  /** Until woken: a publish, new partitions, the bus's tick finding unannounced messages, stop. */
  private waitForWork(): Promise<void> {
    return new Promise((resolve) => {
      this.endWait = resolve;
    });
  }

  private isMine(owned: OwnedPartition): boolean {
    return this.owned.get(partitionKey(owned.topic, owned.partition)) === owned && !owned.releasing;
  }

  /** Handles up to one batch of a partition in order; returns how many messages it handled. */
  private async drainBatch(owned: OwnedPartition): Promise<number> {
    if (!this.isMine(owned)) return 0;
    const key = partitionKey(owned.topic, owned.partition);
    const messages = this.publishedHere.from(key, owned.position, BATCH_MESSAGES, BATCH_BYTES) ?? (await this.fetchBatch(owned));
    if (messages.length === 0) return 0;
    try {
      return await this.handleBatch(owned, messages);
    } finally {
      this.publishedHere.release(key, owned.position);
    }
  }

  /** The partition's next batch from bus.messages, from this member's position. */
  private async fetchBatch(owned: OwnedPartition): Promise<DeliveredMessage[]> {
    const valueTypes = this.options.valueTypes === undefined ? null : [...this.options.valueTypes];
    const result = await this.deps.db.raw<{ rows: unknown[] }>(
      // The byte cap is computed without reading the values: octet_length does not detoast text.
      // A value whose type the consumer does not read (valueTypes) is neither sent nor counted.
      `SELECT "offset", key, CASE WHEN wanted THEN value ELSE '' END AS value, headers FROM (
         SELECT "offset", key, value, headers, wanted,
                sum(CASE WHEN wanted THEN octet_length(value) ELSE 0 END) OVER (ORDER BY "offset")
                  - CASE WHEN wanted THEN octet_length(value) ELSE 0 END AS bytes_before
         FROM (SELECT *, (?::text[] IS NULL OR headers->>'event-type' IS NULL OR headers->>'event-type' = ANY(?::text[])) AS wanted
               FROM bus.messages WHERE topic = ? AND partition = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?) AS next
       ) AS sized WHERE bytes_before < ? ORDER BY "offset"`,
      [valueTypes, valueTypes, owned.topic, owned.partition, owned.position.toString(), BATCH_MESSAGES, BATCH_BYTES],
    );
    const messages: DeliveredMessage[] = result.rows.map((r) => messageRow.parse(r)).map((row) => ({
      topic: owned.topic,
      partition: owned.partition,
      offset: row.offset.toString(),
      key: row.key,
      value: row.value,
      headers: row.headers,
    }));
    return messages;
  }

  /** Hands a batch read from `owned`'s position to the handler and commits what was handled. */
  private async handleBatch(owned: OwnedPartition, messages: DeliveredMessage[]): Promise<number> {
    if (this.options.batchHandler) {
      this.busy = partitionKey(owned.topic, owned.partition);
      try {
        return await this.deliverBatch(owned, messages, this.options.batchHandler);
      } finally {
        this.busy = undefined;
        if (owned.releasing) void this.heartbeat();
      }
    }
    let handled = 0;
    for (const message of messages) {
      if (this.stopSignal.signal.aborted || !this.isMine(owned)) break;
      this.busy = partitionKey(owned.topic, owned.partition);
      try {
        if (!(await this.deliver(owned, message))) break;
      } finally {
        this.busy = undefined;
      }
      handled++;
    }
    if (owned.releasing) void this.heartbeat(); // hand it over now rather than at the next tick
    return handled;
  }

  /**
   * One call of the batch handler for the whole batch, then one commit. A batch that throws is
   * delivered again one message at a time, each with the retries and the dead-letter topic.
   */
  private async deliverBatch(owned: OwnedPartition, messages: DeliveredMessage[], batchHandler: (messages: DeliveredMessage[]) => Promise<void>): Promise<number> {
    if (this.stopSignal.signal.aborted || !this.isMine(owned)) return 0;
    try {
      await batchHandler(messages);
    } catch (error) {
      const first = messages[0];
      this.logger.warn(
        { topic: owned.topic, partition: owned.partition, offset: first.offset, messages: messages.length, error: errorText(error) },
        'batch handler failed; delivering its messages one at a time',
      );
      let handled = 0;
      for (const message of messages) {
        if (this.stopSignal.signal.aborted || !this.isMine(owned)) break;
        if (!(await this.deliver(owned, message))) break;
        handled++;
      }
      return handled;
    }
    const last = messages[messages.length - 1];
    if (!(await this.commit(owned, BigInt(last.offset) + 1n))) return 0;
    return messages.length;
  }

  /** Moves the group's offset if this member still holds the partition's lease. */
  private async commit(owned: OwnedPartition, next: bigint): Promise<boolean> {
    // An offset lost in a crash only redelivers (consumers are idempotent): no need to wait for its
    // fsync. Sent with the other consumers' commits of the moment (InProcessOffsetCommits).
    const moved = await this.deps.commitOffset({ groupId: this.options.groupId, topic: owned.topic, partition: owned.partition, memberId: this.memberId, next });
    if (!moved) {
      this.logger.warn({ topic: owned.topic, partition: owned.partition }, 'lease lost; partition handed to another member');
      this.owned.delete(partitionKey(owned.topic, owned.partition));
      return false;
    }
    owned.position = next;
    this.deps.markDirty();
    return true;
  }

  /**
   * Returns false when the message stays uncommitted (stopping, or the lease was lost). A handled
   * message moves the offset in one statement; a dead-lettered one commits the dead letter with it.
   */
  private async deliver(owned: OwnedPartition, message: DeliveredMessage): Promise<boolean> {
    const outcome = await deliverWithRetries(message, this.deliverOne, this.policy, {
      signal: this.stopSignal.signal,
      onAttemptFailed: (error, attempt) =>
        this.logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, attempt, error: errorText(error) }, 'message handler failed'),
    });
    if (outcome.kind === 'abandoned') return false;
    const next = BigInt(message.offset) + 1n;
    // Handled: only the offset moves, in one statement (commit), not BEGIN, SET LOCAL, UPDATE, COMMIT.
    if (outcome.kind !== 'exhausted') return this.commit(owned, next);
    const deadLetterTopic = this.policy.deadLetterTopic(message.topic);
    const committed = await this.deps.db.transaction(async (trx) => {
      // An offset lost in a crash only redelivers (consumers are idempotent); a dead letter is
      // derived from the message, which stays in the log until this commit is durable.
      await trx.raw('SET LOCAL synchronous_commit TO OFF');
      await this.deps.append(trx, deadLetterTopic, [deadLetterMessage(message, outcome.attempts, outcome.lastError)]);
      const updated = await trx.raw<{ rowCount: number | null }>(
        `UPDATE bus.group_offsets SET committed_offset = ? WHERE group_id = ? AND topic = ? AND partition = ? AND lease_owner = ?`,
        [next.toString(), this.options.groupId, owned.topic, owned.partition, this.memberId],
      );
      // Not ours any more: roll back (the dead letter too); the new owner delivers it again.
      if (updated.rowCount !== 1) throw new LeaseLostError();
      return true;
    }).catch((error: unknown) => {
      if (!(error instanceof LeaseLostError)) throw error;
      this.logger.warn({ topic: owned.topic, partition: owned.partition }, 'lease lost; partition handed to another member');
      this.owned.delete(partitionKey(owned.topic, owned.partition));
      return false;
    });
    if (!committed) return false;
    owned.position = next;
    this.deps.markDirty();
    this.logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset }, 'message dead-lettered');
    this.deps.published(deadLetterTopic);
    return true;
  }

}

class LeaseLostError extends Error {}
