import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { GroupActivity } from '../../infrastructure/metrics/instrumented-bus';

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A process whose heartbeat is older than this is presumed dead. */
export const HEARTBEAT_TTL_SEC = 20;

/**
 * Every `arena start|serve|worker` process writes a heartbeat row to the read-model database: its
 * roles, and what its consumer groups did (last error included). `arena status` reads the rows to
 * say which workers are alive and why a projection is stuck, whichever process runs it.
 */
export async function migrateProcessHeartbeats(db: Knex): Promise<void> {
  await db.raw(`CREATE TABLE IF NOT EXISTS ops_processes (
    id text PRIMARY KEY,
    roles text[] NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL,
    seen_at timestamptz NOT NULL,
    groups jsonb NOT NULL DEFAULT '[]'::jsonb
  )`);
}

export interface ProcessHeartbeat {
  id: string;
  roles: string[];
  host: string;
  pid: number;
  startedAt: string;
  seenAt: string;
  alive: boolean;
  groups: GroupActivity[];
}

const activitySchema = z.object({
  group: z.string(),
  handled: z.number(),
  failed: z.number(),
  lastHandledAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
});

const heartbeatRow = z.object({
  id: z.string(),
  roles: z.array(z.string()),
  host: z.string(),
  pid: z.number(),
  started_at: z.date(),
  seen_at: z.date(),
  alive: z.boolean(),
  groups: z.array(activitySchema),
});

export async function readHeartbeats(db: Knex): Promise<ProcessHeartbeat[]> {
  const result = await db.raw(
    `SELECT id, roles, host, pid, started_at, seen_at, seen_at > now() - make_interval(secs => ?) AS alive, groups
       FROM ops_processes WHERE seen_at > now() - interval '1 day' ORDER BY started_at`,
    [HEARTBEAT_TTL_SEC],
  );
  return z
    .array(heartbeatRow)
    .parse(result.rows)
    .map((row) => ({
      id: row.id,
      roles: row.roles,
      host: row.host,
      pid: row.pid,
      startedAt: row.started_at.toISOString(),
      seenAt: row.seen_at.toISOString(),
      alive: row.alive,
      groups: row.groups,
    }));
}

export interface RunningHeartbeat {
  id: string;
  stop(): Promise<void>;
}

export async function startProcessHeartbeat(
  db: Knex,
  roles: string[],
  activity: () => GroupActivity[],
  logger: Logger,
): Promise<RunningHeartbeat> {
  const id = randomUUID();
  const startedAt = new Date();
  const beat = async () => {
    await db.raw(
      `INSERT INTO ops_processes (id, roles, host, pid, started_at, seen_at, groups) VALUES (?, ?, ?, ?, ?, now(), ?::jsonb)
       ON CONFLICT (id) DO UPDATE SET seen_at = now(), roles = excluded.roles, groups = excluded.groups`,
      [id, roles, hostname(), process.pid, startedAt, JSON.stringify(activity())],
    );
  };
  await migrateProcessHeartbeats(db);
  await beat();
  let beats = 0;
  const timer = setInterval(() => {
    beats += 1;
    beat()
      // Old rows are cleared once a minute, not every beat: idle cost is counted in transactions.
      .then(() => (beats % 12 === 0 ? db.raw(`DELETE FROM ops_processes WHERE seen_at < now() - interval '1 day'`) : undefined))
      .catch((error: unknown) => logger.warn({ err: error }, 'process heartbeat failed'));
  }, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return {
    id,
    stop: async () => {
      clearInterval(timer);
      await db.raw('DELETE FROM ops_processes WHERE id = ?', [id]).catch(() => undefined);
    },
  };
}
