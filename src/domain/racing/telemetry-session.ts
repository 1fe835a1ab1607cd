import type { Decider } from '../shared/decider';
import { ConflictError, ForbiddenError, InvalidStateError, NotFoundError, UnprocessableError } from '../shared/errors';
import { detectLaps, initialLapDetectorState, type LapDetection, type LapDetectorState } from './lap-detection';
import { lapDetectorConfig, type LapDetectorConfig } from './lap-detector-config';
import {
  decideEstimatedLaps,
  decideFinalEstimatedLaps,
  estimationWithBatch,
  estimationWithLap,
  initialLapEstimation,
  needsEstimation,
  type LapEstimationState,
} from './lap-estimation-state';
import { DEFAULT_LAP_ESTIMATOR_CONFIG } from './lap-estimator-config';
import { batchLength, type TelemetryBatchColumns } from './telemetry-batch';
import { isSameBatch } from './telemetry-batch-fingerprint';
import { partEnd, sliceColumns } from './telemetry-batch-parts';
import type {
  LapCompleted,
  SectorCompleted,
  SessionContext,
  TelemetryBatchRecorded,
  TelemetrySessionEvent,
} from './telemetry-session-events';

export * from './telemetry-session-events';

/**
 * The TelemetrySession aggregate (docs/analytics.md, "Write side"). Its state holds the lap
 * detector's state, so the laps and sectors a batch completes are decided together with the batch
 * and appended with it, atomically; and the recent batch ids, so a retried upload records nothing.
 */

/** Batch ids remembered for retries. An older retry no longer matches, and its points, not being
 * later than the session's last point, are then refused (422) instead of recorded twice. */
export const REMEMBERED_BATCH_IDS = 1000;

export interface RecordedBatch {
  batchId: string;
  fingerprint: string;
  /** Points of the whole upload. */
  pointCount: number;
  /** Points recorded so far: less than pointCount while an upload recorded in parts is unfinished. */
  pointsRecorded: number;
  lapsCompleted: number;
}

export const isBatchComplete = (batch: RecordedBatch): boolean => batch.pointsRecorded >= batch.pointCount;

export interface OpenSession extends SessionContext {
  status: 'active' | 'completed';
  trackLengthM: number | null;
  detector: LapDetectorState;
  /**
   * How laps are found, fixed by the first upload: 'detector' when it carried positions or a lap
   * counter, else 'estimator' (laps estimated from speed and pedals, docs/telemetry.md).
   */
  lapSource: 'detector' | 'estimator' | null;
  estimation: LapEstimationState;
  /** Most recent last. */
  recentBatches: RecordedBatch[];
  pointCount: number;
  lapCount: number;
  lastTimestampMs: number | null;
}

export type TelemetrySession = { status: 'none' } | OpenSession;

export type TelemetrySessionCommand =
  | {
      type: 'CreateSession';
      sessionId: string;
      ownerId: string;
      sessionName: string;
      trackName: string;
      carModel: string;
      weatherConditions: string | null;
      trackTemperatureC: number | null;
      airTemperatureC: number | null;
      trackLengthM: number | null;
      now: string;
    }
  | {
      type: 'RecordTelemetryBatch';
      sessionId: string;
      userId: string;
      batchId: string;
      fingerprint: string;
      /** Already validated (validateTelemetryBatch): strictly increasing timestamps. */
      columns: TelemetryBatchColumns;
      /**
       * JSON bytes of points one event may hold (telemetry-batch-parts.ts). A larger upload is
       * recorded in parts, one part per command: repeat the command until it decides nothing.
       * Absent: the whole upload in one event.
       */
      maxPartBytes?: number;
      now: string;
    }
  | { type: 'CompleteSession'; sessionId: string; userId: string; now: string };

export const initialTelemetrySession = (): TelemetrySession => ({ status: 'none' });

/** The detector configuration of a session: the defaults, with the track length when known. */
export const sessionDetectorConfig = (trackLengthM: number | null): LapDetectorConfig => lapDetectorConfig({ trackLengthM });

const contextOf = (state: OpenSession): SessionContext => ({
  sessionId: state.sessionId,
  ownerId: state.ownerId,
  trackName: state.trackName,
  carModel: state.carModel,
});

/**
 * Laps of a batch from a detector state. Deciding a batch and then evolving with the event it
 * decided run the same detection (same state object, same columns object): the second call gets
 * the first one's answer instead of walking every point again. Pure: the answer depends only on
 * the arguments, and nothing is kept once the columns are garbage.
 */
const detections = new WeakMap<TelemetryBatchColumns, { detector: LapDetectorState; trackLengthM: number | null; detection: LapDetection }>();
function batchLaps(detector: LapDetectorState, columns: TelemetryBatchColumns, trackLengthM: number | null): LapDetection {
  const known = detections.get(columns);
  if (known !== undefined && known.detector === detector && known.trackLengthM === trackLengthM) return known.detection;
  const detection = detectLaps(detector, columns, sessionDetectorConfig(trackLengthM));
  detections.set(columns, { detector, trackLengthM, detection });
  return detection;
}

export function evolveTelemetrySession(state: TelemetrySession, event: TelemetrySessionEvent): TelemetrySession {
  if (event.type === 'SessionCreated') {
    const { sessionId, ownerId, trackName, carModel, trackLengthM } = event.data;
    return {
      status: 'active',
      sessionId,
      ownerId,
      trackName,
      carModel,
      trackLengthM,
      detector: initialLapDetectorState(),
      lapSource: null,
      estimation: initialLapEstimation(),
      recentBatches: [],
      pointCount: 0,
      lapCount: 0,
      lastTimestampMs: null,
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'TelemetryBatchRecorded': {
      const { pointCount, lastTimestampMs, columns } = event.data;
      const lapSource = state.lapSource ?? (needsEstimation(columns) ? 'estimator' : 'detector');
      if (lapSource === 'estimator') {
        return {
          ...state,
          lapSource,
          estimation: estimationWithBatch(state.estimation, columns, DEFAULT_LAP_ESTIMATOR_CONFIG),
          recentBatches: withRecordedPart(state, event.data, 0),
          pointCount: state.pointCount + pointCount,
          lastTimestampMs,
        };
      }
      const detection = batchLaps(state.detector, columns, state.trackLengthM);
      const recentBatches = withRecordedPart(state, event.data, detection.laps.length);
      return {
        ...state,
        lapSource,
        detector: detection.state,
        recentBatches,
        pointCount: state.pointCount + pointCount,
        lastTimestampMs,
      };
    }
    case 'LapCompleted': {
      if (!event.data.estimated) return { ...state, lapCount: state.lapCount + 1 };
      // Estimated laps are decided after their batch: they count on the latest one.
      const latest = state.recentBatches[state.recentBatches.length - 1];
      return {
        ...state,
        lapCount: state.lapCount + 1,
        estimation: estimationWithLap(state.estimation, event.data, DEFAULT_LAP_ESTIMATOR_CONFIG),
        recentBatches: latest === undefined ? state.recentBatches : [...state.recentBatches.slice(0, -1), { ...latest, lapsCompleted: latest.lapsCompleted + 1 }],
      };
    }
    case 'SectorCompleted':
      return state;
    case 'SessionCompleted':
      return { ...state, status: 'completed' };
  }
}

/** The remembered batches after one recorded event: a later part of an upload adds to its first part. */
function withRecordedPart(state: OpenSession, data: TelemetryBatchRecorded['data'], lapsCompleted: number): RecordedBatch[] {
  const { batchId, fingerprint, pointCount, firstPointIndex, batchPointCount } = data;
  const earlierPart = firstPointIndex !== undefined && firstPointIndex > 0 ? findRecordedBatch(state, batchId) : undefined;
  if (earlierPart) {
    return state.recentBatches.map((batch) =>
      batch === earlierPart ? { ...batch, pointsRecorded: batch.pointsRecorded + pointCount, lapsCompleted: batch.lapsCompleted + lapsCompleted } : batch,
    );
  }
  return [
    ...state.recentBatches.slice(-(REMEMBERED_BATCH_IDS - 1)),
    { batchId, fingerprint, pointCount: batchPointCount ?? pointCount, pointsRecorded: pointCount, lapsCompleted },
  ];
}

/** Only the owner reads or writes a session: someone else's is 403, a missing one 404. */
export function requireOwnedSession(state: TelemetrySession, userId: string): OpenSession {
  if (state.status === 'none') throw new NotFoundError('Session not found');
  if (state.ownerId !== userId) throw new ForbiddenError('This session belongs to another user');
  return state;
}

export function findRecordedBatch(state: OpenSession, batchId: string): RecordedBatch | undefined {
  return state.recentBatches.find((batch) => batch.batchId === batchId);
}

export function decideTelemetrySession(command: TelemetrySessionCommand, state: TelemetrySession): TelemetrySessionEvent[] {
  switch (command.type) {
    case 'CreateSession': {
      if (state.status !== 'none') throw new ConflictError('Session already exists');
      const { sessionId, ownerId, sessionName, trackName, carModel, weatherConditions, trackTemperatureC, airTemperatureC, trackLengthM, now } = command;
      return [
        {
          type: 'SessionCreated',
          data: { sessionId, ownerId, trackName, carModel, sessionName, weatherConditions, trackTemperatureC, airTemperatureC, trackLengthM, createdAt: now },
        },
      ];
    }
    case 'RecordTelemetryBatch':
      return decideBatch(command, requireOwnedSession(state, command.userId));
    case 'CompleteSession': {
      const session = requireOwnedSession(state, command.userId);
      if (session.status === 'completed') return [];
      const finalLaps =
        session.lapSource === 'estimator'
          ? decideFinalEstimatedLaps(session.estimation, sessionDetectorConfig(session.trackLengthM), DEFAULT_LAP_ESTIMATOR_CONFIG)
          : [];
      return [
        ...finalLaps.map((lap): LapCompleted => ({ type: 'LapCompleted', data: { ...contextOf(session), ...lap } })),
        { type: 'SessionCompleted', data: { ...contextOf(session), completedAt: command.now } },
      ];
    }
  }
}

function decideBatch(command: Extract<TelemetrySessionCommand, { type: 'RecordTelemetryBatch' }>, session: OpenSession): TelemetrySessionEvent[] {
  const retried = findRecordedBatch(session, command.batchId);
  if (retried !== undefined && !isSameBatch(retried.fingerprint, command.fingerprint, command.columns)) {
    throw new ConflictError(`Batch id ${command.batchId} was already used for different data points`, { batch_id: command.batchId });
  }
  if (retried !== undefined && isBatchComplete(retried)) return [];
  if (session.status === 'completed') throw new InvalidStateError('Session is complete: it accepts no more telemetry');
  // An upload recorded in parts goes on from its first point not yet recorded.
  const from = retried?.pointsRecorded ?? 0;
  const total = batchLength(command.columns);
  const to = command.maxPartBytes === undefined ? total : partEnd(command.columns, from, command.maxPartBytes);
  const columns = sliceColumns(command.columns, from, to);
  const firstTimestampMs = columns.timestampMs[0]!;
  const lastTimestampMs = columns.timestampMs[batchLength(columns) - 1]!;
  if (session.lastTimestampMs !== null && firstTimestampMs <= session.lastTimestampMs) {
    const key = `data_points.${from}.timestamp`;
    const message =
      `timestamp ${new Date(firstTimestampMs).toISOString()} is not after the last point already recorded in this session ` +
      `(${new Date(session.lastTimestampMs).toISOString()}); a session's timestamps must strictly increase across batches`;
    throw new UnprocessableError(`Invalid telemetry batch: ${key}: ${message}`, {
      location: 'body',
      fields: { [key]: message },
      point_index: from,
      field: 'timestamp',
    });
  }
  const context = contextOf(session);
  const batch: TelemetryBatchRecorded = {
    type: 'TelemetryBatchRecorded',
    data: {
      ...context,
      batchId: command.batchId,
      fingerprint: command.fingerprint,
      pointCount: batchLength(columns),
      firstTimestampMs,
      lastTimestampMs,
      recordedAt: command.now,
      columns,
      ...(from > 0 || to < total ? { firstPointIndex: from, batchPointCount: total } : {}),
    },
  };
  if ((session.lapSource ?? (needsEstimation(columns) ? 'estimator' : 'detector')) === 'estimator') {
    const estimation = estimationWithBatch(session.estimation, columns, DEFAULT_LAP_ESTIMATOR_CONFIG);
    const laps = decideEstimatedLaps(estimation, session.lastTimestampMs, sessionDetectorConfig(session.trackLengthM), DEFAULT_LAP_ESTIMATOR_CONFIG);
    return [batch, ...laps.map((lap): LapCompleted => ({ type: 'LapCompleted', data: { ...context, ...lap } }))];
  }
  const detection = batchLaps(session.detector, columns, session.trackLengthM);
  // In the order they happened; at the line, the last sector's split before the lap it closes.
  const timed: Array<{ atMs: number; kind: number; event: LapCompleted | SectorCompleted }> = [
    ...detection.sectors.map((split) => ({ atMs: split.splitAtMs, kind: 0, event: { type: 'SectorCompleted' as const, data: { ...context, ...split } } })),
    ...detection.laps.map((lap) => ({ atMs: lap.endedAtMs, kind: 1, event: { type: 'LapCompleted' as const, data: { ...context, ...lap } } })),
  ];
  // Array.prototype.sort is stable: equal keys keep the detector's order.
  timed.sort((a, b) => a.atMs - b.atMs || a.kind - b.kind);
  return [batch, ...timed.map((entry) => entry.event)];
}

export const telemetrySessionDecider: Decider<TelemetrySessionCommand, TelemetrySession, TelemetrySessionEvent> = {
  initialState: initialTelemetrySession,
  evolve: evolveTelemetrySession,
  decide: decideTelemetrySession,
};
