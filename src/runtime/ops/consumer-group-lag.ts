import type * as KafkaJs from 'kafkajs';
import type { Knex } from 'knex';
import { z } from 'zod';

/** One consumer group's progress over all its topic partitions. */
export interface ConsumerGroupLag {
  /** Group id without the deployment's namespace (TOPIC_PREFIX). */
  group: string;
  /** Messages the group has committed (sum of committed offsets). */
  position: number;
  /** Messages published to the group's partitions and not yet committed by it. */
  lag: number;
  /** How long the oldest uncommitted message has waited; null when the bus cannot tell. */
  oldestPendingSec: number | null;
}

const lagRow = z.object({
  group_id: z.string(),
  position: z.coerce.number(),
  lag: z.coerce.number(),
  oldest_pending_sec: z.coerce.number().nullable(),
});

/** The in-process bus keeps offsets and messages in PostgreSQL (schema `bus`): one query answers all. */
export async function inProcessGroupLag(db: Knex, namespace: string): Promise<ConsumerGroupLag[]> {
  const exists = await db.raw(`SELECT to_regclass('bus.group_offsets') IS NOT NULL AS present`);
  if (!z.object({ present: z.boolean() }).parse(exists.rows[0]).present) return [];
  const result = await db.raw(
    `SELECT g.group_id,
            sum(g.committed_offset) AS position,
            sum(greatest(p.next_offset - g.committed_offset, 0)) AS lag,
            extract(epoch FROM now() - min(m.created_at)) AS oldest_pending_sec
       FROM bus.group_offsets g
       JOIN bus.partitions p ON p.topic = g.topic AND p.partition = g.partition
       LEFT JOIN bus.messages m ON m.topic = g.topic AND m.partition = g.partition AND m."offset" = g.committed_offset
      WHERE NOT g.ephemeral AND starts_with(g.group_id, ?)
      GROUP BY g.group_id
      ORDER BY g.group_id`,
    [namespace],
  );
  return z
    .array(lagRow)
    .parse(result.rows)
    .map((row) => ({ group: row.group_id.slice(namespace.length), position: row.position, lag: row.lag, oldestPendingSec: row.oldest_pending_sec }));
}

/** Kafka: committed offsets of every group in the namespace against the partitions' high watermarks. */
export async function kafkaGroupLag(brokers: string[], namespace: string, clientId: string): Promise<ConsumerGroupLag[]> {
  // kafkajs is loaded only when a broker is configured (commands that do not need it start faster).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Kafka, logLevel } = require('kafkajs') as typeof KafkaJs;
  const admin = new Kafka({ brokers, clientId: `${clientId}-status`, logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(namespace) && id.length > namespace.length);
    const highWatermarks = new Map<string, Map<number, bigint>>();
    const lags: ConsumerGroupLag[] = [];
    for (const groupId of ours.sort()) {
      let position = 0n;
      let lag = 0n;
      for (const topic of await admin.fetchOffsets({ groupId })) {
        if (!highWatermarks.has(topic.topic)) {
          const ends = await admin.fetchTopicOffsets(topic.topic);
          highWatermarks.set(topic.topic, new Map(ends.map((e) => [e.partition, BigInt(e.high)])));
        }
        const ends = highWatermarks.get(topic.topic)!;
        for (const partition of topic.partitions) {
          const committed = BigInt(partition.offset) < 0n ? 0n : BigInt(partition.offset);
          const high = ends.get(partition.partition) ?? committed;
          position += committed;
          lag += high > committed ? high - committed : 0n;
        }
      }
      lags.push({ group: groupId.slice(namespace.length), position: Number(position), lag: Number(lag), oldestPendingSec: null });
    }
    return lags;
  } finally {
    await admin.disconnect();
  }
}
