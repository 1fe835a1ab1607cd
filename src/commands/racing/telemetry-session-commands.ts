import {
  findRecordedBatch,
  isBatchComplete,
  type OpenSession,
  type RecordedBatch,
  type TelemetrySession,
  type TelemetrySessionEvent,
} from '../../domain/racing/telemetry-session';
import { batchFingerprint } from '../../domain/racing/telemetry-batch-fingerprint';
import { validateTelemetryBatch } from '../../domain/racing/telemetry-point';
import type { TelemetryBatchColumns } from '../../domain/racing/telemetry-batch';
import type { CommandContext } from '../command-context';
import { deterministicEventId } from '../deterministic-event-id';
import type { CommandOutcome } from '../handle-command';
import type { TelemetrySessionRepository } from './telemetry-session-repository';

export interface CreateSessionInput {
  sessionName: string;
  trackName: string;
  carModel: string;
  weatherConditions: string | null;
  trackTemperatureC: number | null;
  airTemperatureC: number | null;
  trackLengthM: number | null;
}

export async function createSession(
  ctx: CommandContext,
  sessions: TelemetrySessionRepository,
  ownerId: string,
  input: CreateSessionInput,
): Promise<CommandOutcome<TelemetrySession, TelemetrySessionEvent> & { sessionId: string }> {
  const sessionId = ctx.newId();
  const outcome = await sessions.handle(
    sessionId,
    { type: 'CreateSession', sessionId, ownerId, ...input, now: ctx.now().toISOString() },
    // A fresh random id: nothing to read (a stream that exists after all makes the append conflict).
    { metadata: ctx.metadata, newStream: true },
    ctx.store,
  );
  return { ...outcome, sessionId };
}


export interface RecordBatchResult {
  outcome: CommandOutcome<TelemetrySession, TelemetrySessionEvent>;
  batch: RecordedBatch;
  /** True when the batch id had been recorded before: nothing was appended. */
  replayed: boolean;
}

/**
 * Validates the points (the first bad one rejects the whole batch: 400, or 422 for timestamps out
 * of order), then records the batch and the laps and sectors it completes. An upload larger than
 * `maxPartBytes` of points is recorded in parts, one append per part, each with the exact expected
 * revision and ids derived from batch id, fingerprint and part: a retry after a partial failure
 * (same batch id, same points) records the remaining parts, and laps come out as for one part.
 *
 * Validation runs before anything is awaited, and only the columns go on: nothing here holds the
 * uploaded point objects while the append and the answer wait (the caller drops its own
 * references, see the upload route), so they die young instead of being copied and promoted by
 * the young generation's collections.
 */
export function recordTelemetryBatch(
  ctx: CommandContext,
  sessions: TelemetrySessionRepository,
  input: { sessionId: string; userId: string; batchId: string | null; dataPoints: unknown; maxPoints?: number; maxPartBytes?: number },
): Promise<RecordBatchResult> {
  const validated = validateTelemetryBatch(input.dataPoints, { maxPoints: input.maxPoints });
  if (!validated.ok) return Promise.reject(validated.error);
  const { sessionId, userId, batchId, maxPartBytes } = input;
  return recordValidatedBatch(ctx, sessions, { sessionId, userId, batchId, columns: validated.batch, ...(maxPartBytes !== undefined ? { maxPartBytes } : {}) });
}

async function recordValidatedBatch(
  ctx: CommandContext,
  sessions: TelemetrySessionRepository,
  input: { sessionId: string; userId: string; batchId: string | null; columns: TelemetryBatchColumns; maxPartBytes?: number },
): Promise<RecordBatchResult> {
  const batchId = input.batchId ?? ctx.newId();
  const fingerprint = batchFingerprint(input.columns);
  const command = {
    type: 'RecordTelemetryBatch' as const,
    sessionId: input.sessionId,
    userId: input.userId,
    batchId,
    fingerprint,
    columns: input.columns,
    ...(input.maxPartBytes !== undefined ? { maxPartBytes: input.maxPartBytes } : {}),
    now: ctx.now().toISOString(),
  };
  const eventIds = (events: TelemetrySessionEvent[]): string[] => {
    const part = events[0]?.type === 'TelemetryBatchRecorded' ? (events[0].data.firstPointIndex ?? 0) : 'other';
    return events.map((_, index) => deterministicEventId(`telemetry/${input.sessionId}/${batchId}/${fingerprint}/${String(part)}/${index}`));
  };
  const appended: TelemetrySessionEvent[] = [];
  for (;;) {
    // Through the request's store: read-your-writes applies the appended events without reading them back.
    const outcome = await sessions.handle(input.sessionId, command, { metadata: ctx.metadata, eventIds }, ctx.store);
    appended.push(...outcome.events);
    const batch = findRecordedBatch(outcome.state as OpenSession, batchId);
    if (batch === undefined) throw new Error(`batch ${batchId} missing from the session state after recording`);
    if (outcome.events.length === 0 || isBatchComplete(batch)) {
      return { outcome: { ...outcome, events: appended }, batch, replayed: appended.length === 0 };
    }
  }
}

export async function completeSession(
  ctx: CommandContext,
  sessions: TelemetrySessionRepository,
  input: { sessionId: string; userId: string },
): Promise<CommandOutcome<TelemetrySession, TelemetrySessionEvent>> {
  return sessions.handle(input.sessionId, { type: 'CompleteSession', ...input, now: ctx.now().toISOString() }, { metadata: ctx.metadata }, ctx.store);
}
