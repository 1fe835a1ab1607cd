import type { Knex } from 'knex';
import { z } from 'zod';
import type { BusHealth } from '../../infrastructure/bus/bus-health';
import { postgresListenerOf, type ChannelListener } from '../../infrastructure/database/postgres-listener';
import { createLogger, type Logger } from '../../infrastructure/logging/logger';
import { PROJECTION_REVISIONS_TABLE } from './postgres-projection';

/**
 * Projections announce what they applied: every apply transaction NOTIFYs `projection_applied`
 * with the projection's name and the streams' new revisions (or only the name when that list
 * would not fit a notification). PostgreSQL delivers it on commit to every process listening, so
 * an API process learns at once what a projections worker in another process applied.
 */
export const PROJECTION_APPLIED_CHANNEL = 'projection_applied';

/** PostgreSQL refuses payloads from 8000 bytes; the revisions are left out well before that. */
const MAX_PAYLOAD_BYTES = 7_500;

const appliedPayload = z.object({ p: z.string(), s: z.array(z.tuple([z.string(), z.string()])).optional() });

/** The notification for `revisions` (stream id -> revision) applied by `projection`. */
export function appliedPayloadText(projection: string, revisions: Map<string, bigint>): string {
  const full = JSON.stringify({ p: projection, s: [...revisions].map(([stream, revision]) => [stream, revision.toString()]) });
  return Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES ? full : JSON.stringify({ p: projection });
}

/** Sends the announcement inside the apply transaction: delivered if and when it commits. */
export async function announceApplied(trx: Knex.Transaction, projection: string, revisions: Map<string, bigint>): Promise<void> {
  if (revisions.size === 0) return;
  await trx.raw('SELECT pg_notify(?, ?)', [PROJECTION_APPLIED_CHANNEL, appliedPayloadText(projection, revisions)]);
}

interface Waiter {
  projection: string;
  streamId: string;
  revision: bigint;
  /** The announcement named this stream at or past the revision. */
  reached: () => void;
  /** The announcement did not list streams: read the table again. */
  recheck: () => void;
}

/** While the listener is down, waiters read the table this often; with it, only as a safety net. */
const UNLISTENED_RECHECK_MS = 100;
const LISTENED_RECHECK_MS = 1_000;
/** How often a waiter asks whether the bus is known to be down. */
const HEALTH_CHECK_MS = 250;

/**
 * Read-your-writes without sleeping in steps: waiters of a knex pool share one LISTEN on
 * `projection_applied`, and each is woken by the announcement that covers its stream and revision.
 */
export class ProjectionAppliedSignal {
  private readonly waiters = new Set<Waiter>();
  private registration: ChannelListener | undefined;

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
  ) {}

  async waitFor(projection: string, streamId: string, revision: bigint, timeoutMs: number, health: BusHealth | undefined): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let wake: (reached: boolean) => void = () => undefined;
    let woken: Promise<boolean> = Promise.resolve(false);
    const arm = (): void => {
      woken = new Promise<boolean>((resolve) => (wake = resolve));
    };
    arm();
    const waiter: Waiter = { projection, streamId, revision, reached: () => wake(true), recheck: () => wake(false) };
    const registration = this.add(waiter);
    try {
      await within(registration.ready, deadline - Date.now());
      let lastRead = 0;
      for (;;) {
        const listening = postgresListenerOf(this.db, this.logger).isListening(PROJECTION_APPLIED_CHANNEL);
        if (Date.now() - lastRead >= (listening ? LISTENED_RECHECK_MS : UNLISTENED_RECHECK_MS) || lastRead === 0) {
          lastRead = Date.now();
          arm(); // armed before the read: an announcement during it is not lost
          if ((await this.appliedRevision(projection, streamId)) >= revision) return true;
        }
        if (Date.now() >= deadline || health?.knownDown()) return false;
        const pause = Math.min(deadline - Date.now(), health ? HEALTH_CHECK_MS : listening ? LISTENED_RECHECK_MS : UNLISTENED_RECHECK_MS);
        const outcome = await within(woken, pause);
        if (outcome === true) return true;
        if (outcome === false) lastRead = 0; // an announcement without streams: read now
      }
    } finally {
      this.remove(waiter);
    }
  }

  private add(waiter: Waiter): ChannelListener {
    this.waiters.add(waiter);
    this.registration ??= postgresListenerOf(this.db, this.logger).listen(PROJECTION_APPLIED_CHANNEL, (payload) => this.onAnnouncement(payload), () => {
      for (const w of this.waiters) w.recheck();
    });
    return this.registration;
  }

  private remove(waiter: Waiter): void {
    this.waiters.delete(waiter);
    if (this.waiters.size === 0) {
      this.registration?.close();
      this.registration = undefined;
    }
  }

  private onAnnouncement(text: string): void {
    let payload: z.infer<typeof appliedPayload>;
    try {
      payload = appliedPayload.parse(JSON.parse(text));
    } catch {
      return; // not ours
    }
    const revisions = payload.s ? new Map(payload.s.map(([stream, revision]) => [stream, BigInt(revision)])) : undefined;
    for (const waiter of this.waiters) {
      if (waiter.projection !== payload.p) continue;
      if (!revisions) {
        waiter.recheck();
        continue;
      }
      const applied = revisions.get(waiter.streamId);
      if (applied !== undefined && applied >= waiter.revision) waiter.reached();
    }
  }

  private async appliedRevision(projection: string, streamId: string): Promise<bigint> {
    const row = await this.db(PROJECTION_REVISIONS_TABLE).where({ projection, stream_id: streamId }).first<{ revision: string } | undefined>();
    return row ? BigInt(row.revision) : -1n;
  }
}

/** The promise's value, or 'timer' after `ms`; the timer never outlives the wait. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timer'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'timer'>((resolve) => (timer = setTimeout(() => resolve('timer'), Math.max(0, ms))))]);
  } finally {
    clearTimeout(timer);
  }
}

const signals = new WeakMap<Knex, ProjectionAppliedSignal>();
const signalLogger = createLogger({ name: 'projection-applied-signal', level: process.env.LOG_LEVEL ?? 'warn' });

/** One signal per knex pool, shared by every waiting request of the process. */
export function projectionAppliedSignalOf(db: Knex): ProjectionAppliedSignal {
  let signal = signals.get(db);
  if (!signal) {
    signal = new ProjectionAppliedSignal(db, signalLogger);
    signals.set(db, signal);
  }
  return signal;
}
