import type { Knex } from 'knex';
import { z } from 'zod';

/** One consumer's move of its group's offset on one partition, valid only while `memberId` holds the lease. */
export interface OffsetCommit {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly memberId: string;
  /** The next offset to handle (as in Kafka). */
  readonly next: bigint;
}

interface Pending {
  readonly commit: OffsetCommit;
  readonly settle: (moved: boolean) => void;
  readonly fail: (error: unknown) => void;
}

const movedRow = z.object({ group_id: z.string(), topic: z.string(), partition: z.number().int(), member: z.string() });

const keyOf = (commit: Pick<OffsetCommit, 'groupId' | 'topic' | 'partition' | 'memberId'>): string =>
  JSON.stringify([commit.groupId, commit.topic, commit.partition, commit.memberId]);

/**
 * The offset commits of every consumer of one in-process bus, grouped: one statement at a time
 * moves every offset asked for since the previous one was sent (a group commit). Each caller still
 * waits for its own commit and learns whether its lease held, exactly as with a statement of its
 * own; a new session's events, handled by four groups at once, cost one statement instead of four.
 * Like a single commit, the statement does not wait for its fsync: an offset lost in a crash only
 * redelivers (consumers are idempotent).
 */
export class InProcessOffsetCommits {
  private queued: Pending[] = [];
  private flushing = false;

  constructor(private readonly db: Knex) {}

  /** Moves the offset if the member still holds the partition's lease; false when it does not. */
  commit(commit: OffsetCommit): Promise<boolean> {
    return new Promise((settle, fail) => {
      this.queued.push({ commit, settle, fail });
      if (this.flushing) return;
      this.flushing = true;
      // After this turn's other I/O callbacks: consumers whose batches ended together commit together.
      setImmediate(() => void this.flush());
    });
  }

  /** Sends what is queued, then what was queued meanwhile, until nothing is. */
  private async flush(): Promise<void> {
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        await this.send(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    // One row per partition and member: the furthest offset asked for (a member commits a partition in order).
    const furthest = new Map<string, OffsetCommit>();
    for (const { commit } of batch) {
      const key = keyOf(commit);
      const known = furthest.get(key);
      if (known === undefined || known.next < commit.next) furthest.set(key, commit);
    }
    let moved: Set<string>;
    try {
      const result = await this.db.raw<{ rows: unknown[] }>(
        `UPDATE bus.group_offsets AS o SET committed_offset = c.next
         FROM (SELECT set_config('synchronous_commit', 'off', true)) AS derived,
              jsonb_to_recordset(?::jsonb) AS c(group_id text, topic text, partition integer, member text, next bigint)
         WHERE o.group_id = c.group_id AND o.topic = c.topic AND o.partition = c.partition AND o.lease_owner = c.member
         RETURNING o.group_id, o.topic, o.partition, c.member`,
        [JSON.stringify([...furthest.values()].map((c) => ({ group_id: c.groupId, topic: c.topic, partition: c.partition, member: c.memberId, next: c.next.toString() })))],
      );
      moved = new Set(result.rows.map((row) => movedRow.parse(row)).map((row) => keyOf({ groupId: row.group_id, topic: row.topic, partition: row.partition, memberId: row.member })));
    } catch (error) {
      for (const pending of batch) pending.fail(error);
      return;
    }
    for (const pending of batch) pending.settle(moved.has(keyOf(pending.commit)));
  }
}
