import { completeSession, createSession, recordTelemetryBatch } from '../../commands/racing/telemetry-session-commands';
import type { TelemetrySessionRepository } from '../../commands/racing/telemetry-session-repository';
import { sessionStreamId, type SessionCreated } from '../../domain/racing/telemetry-session';
import { NotFoundError, ValidationError } from '../../domain/shared/errors';
import type { CommandServices } from '../../commands/command-states';
import {
  findTelemetrySession,
  requireOwnedTelemetrySession,
  type TelemetrySessionRow,
} from '../../projections/postgres/racing/telemetry-session-queries';
import { sessionCreatedColumns, telemetrySessionsProjection } from '../../projections/postgres/racing/telemetry-sessions-projection';
import { defineRoute, type RouteContext } from '../shared/route';
import { SessionListAnswers } from './session-list-answer';
import {
  CreateSessionBody,
  ListSessionsQuery,
  ListSessionsResponse,
  SessionParams,
  SessionResponse,
  UploadTelemetryBody,
  UploadTelemetryResponse,
} from './telemetry-schemas';

export function sessionBody(row: TelemetrySessionRow) {
  return {
    id: row.id,
    session_name: row.session_name,
    track_name: row.track_name,
    car_model: row.car_model,
    weather_conditions: row.weather_conditions,
    track_temperature: row.track_temperature,
    air_temperature: row.air_temperature,
    track_length_m: row.track_length_m,
    total_laps: row.total_laps,
    valid_laps: row.valid_laps,
    best_lap_time: row.best_lap_time_ms === null ? null : row.best_lap_time_ms / 1000,
    data_points: row.data_points,
    session_start: (row.session_start ?? row.created_at).toISOString(),
    is_complete: row.is_complete,
    created_at: row.created_at.toISOString(),
    completed_at: row.completed_at === null ? null : row.completed_at.toISOString(),
  };
}

/** The row a new session gets (as the projection writes it), for the create answer. */
function newSessionRow(data: SessionCreated['data']): TelemetrySessionRow {
  const columns = sessionCreatedColumns(data);
  return {
    ...columns,
    created_at: new Date(columns.created_at),
    total_laps: 0,
    valid_laps: 0,
    best_lap_time_ms: null,
    data_points: 0,
    batches: 0,
    session_start: null,
    last_point_at: null,
    is_complete: false,
    completed_at: null,
  };
}

/** The client's batch id: body `batch_id` or the `Idempotency-Key` header (both: they must agree). */
function clientBatchId(ctx: RouteContext<{ batch_id?: string }, unknown, unknown>): string | null {
  const header = ctx.req.headers['idempotency-key'];
  const fromHeader = typeof header === 'string' && header.trim() !== '' ? header.trim() : null;
  const fromBody = ctx.body.batch_id ?? null;
  if (fromHeader !== null && fromHeader.length > 128) {
    throw new ValidationError('Invalid Idempotency-Key header: at most 128 characters', { location: 'headers', fields: { 'Idempotency-Key': 'at most 128 characters' } });
  }
  if (fromHeader !== null && fromBody !== null && fromHeader !== fromBody) {
    throw new ValidationError('batch_id and the Idempotency-Key header differ; send one, or the same value in both', {
      location: 'body',
      fields: { batch_id: 'differs from the Idempotency-Key header' },
    });
  }
  return fromBody ?? fromHeader;
}

/**
 * Drops the request's references to the uploaded point objects (the parsed body and its checked
 * copy) once the command has turned them into columns: the upload then waits for the store and
 * its read model, and 2 000 small objects per batch kept alive that long survive the young
 * generation's collections, which copy and promote them (GC was the upload's largest cost after
 * the engines). Nothing reads the points after the command took them.
 */
function releaseUploadedPoints(ctx: RouteContext<{ data_points: unknown[] }, unknown, unknown>): void {
  ctx.body.data_points = [];
  const parsed: unknown = ctx.req.body;
  if (typeof parsed === 'object' && parsed !== null && 'data_points' in parsed) (parsed as { data_points: unknown }).data_points = [];
}

export function telemetryRoutes(services: CommandServices, sessions: TelemetrySessionRepository) {
  const sessionRow = async (sessionId: string): Promise<TelemetrySessionRow> => {
    const row = await findTelemetrySession(services.db, sessionId);
    if (row === undefined) throw new NotFoundError('Session not found');
    return row;
  };
  const sessionLists = new SessionListAnswers(services.db, (row) => JSON.stringify(sessionBody(row)));

  return [
    defineRoute({
      method: 'get',
      path: '/telemetry/sessions',
      summary: "List the authenticated user's telemetry sessions, newest first",
      tags: ['telemetry'],
      auth: 'required',
      request: { query: ListSessionsQuery },
      responses: { 200: { description: 'A page of sessions and the total matching the filters', schema: ListSessionsResponse } },
      handler: async ({ query, user }) => {
        const page = await sessionLists.page({
          ownerId: user.id,
          trackName: query.track_name,
          carModel: query.car_model,
          limit: query.limit,
          offset: query.offset,
        });
        return { status: 200, body: page };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/telemetry/sessions',
      summary: 'Create a telemetry session',
      tags: ['telemetry'],
      waitFor: telemetrySessionsProjection,
      auth: 'required',
      request: { body: CreateSessionBody },
      responses: { 201: { description: 'The session', schema: SessionResponse } },
      handler: async (ctx) => {
        const { body } = ctx;
        const outcome = await createSession(ctx.command, sessions, ctx.user.id, {
          sessionName: body.session_name,
          trackName: body.track_name,
          carModel: body.car_model,
          weatherConditions: body.weather_conditions ?? null,
          trackTemperatureC: body.track_temperature ?? null,
          airTemperatureC: body.air_temperature ?? null,
          trackLengthM: body.track_length_m ?? null,
        });
        // From the event, not the read model: the answer does not depend on projection lag.
        const created = outcome.events[0]!;
        if (created.type !== 'SessionCreated') throw new Error(`expected SessionCreated, decided ${created.type}`);
        return {
          status: 201,
          written: { streamId: sessionStreamId(outcome.sessionId), revision: outcome.revision },
          body: sessionBody(newSessionRow(created.data)),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/telemetry/sessions/:session_id',
      summary: 'One of your telemetry sessions',
      tags: ['telemetry'],
      auth: 'required',
      request: { params: SessionParams },
      responses: { 200: { description: 'The session', schema: SessionResponse }, 403: { description: "Another user's session" } },
      handler: async ({ params, user }) => ({
        status: 200,
        body: sessionBody(await requireOwnedTelemetrySession(services.db, params.session_id, user.id)),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/telemetry/sessions/:session_id/complete',
      summary: 'Mark a session complete: it accepts no more telemetry (idempotent)',
      tags: ['telemetry'],
      waitFor: telemetrySessionsProjection,
      auth: 'required',
      request: { params: SessionParams },
      responses: { 200: { description: 'The completed session', schema: SessionResponse }, 403: { description: "Another user's session" } },
      handler: async (ctx) => {
        const sessionId = ctx.params.session_id;
        const outcome = await completeSession(ctx.command, sessions, { sessionId, userId: ctx.user.id });
        await ctx.caughtUp({ streamId: sessionStreamId(sessionId), revision: outcome.revision });
        const row = await sessionRow(sessionId);
        const completed = outcome.events.find((event) => event.type === 'SessionCompleted');
        if (completed?.type === 'SessionCompleted') Object.assign(row, { is_complete: true, completed_at: new Date(completed.data.completedAt) });
        return { status: 200, body: sessionBody(row) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/telemetry/sessions/:session_id/data',
      summary: 'Upload a batch of telemetry points; laps and sectors are detected as they complete',
      tags: ['telemetry'],
      waitFor: telemetrySessionsProjection,
      auth: 'required',
      request: { params: SessionParams, body: UploadTelemetryBody },
      responses: {
        201: { description: 'Recorded (or, for a batch id seen before, already recorded)', schema: UploadTelemetryResponse },
        400: { description: 'A bad point (details.point_index, details.field), or the session is complete' },
        403: { description: "Another user's session" },
        409: { description: 'The batch id was used before for different points' },
        422: { description: 'Timestamps not strictly increasing, within the batch or after the last recorded point' },
      },
      handler: async (ctx) => {
        const sessionId = ctx.params.session_id;
        const recording = recordTelemetryBatch(ctx.command, sessions, {
          sessionId,
          userId: ctx.user.id,
          batchId: clientBatchId(ctx),
          dataPoints: ctx.body.data_points,
          maxPartBytes: services.config.TELEMETRY_EVENT_MAX_BYTES,
        });
        releaseUploadedPoints(ctx);
        const { outcome, batch, replayed } = await recording;
        return {
          status: 201,
          written: { streamId: sessionStreamId(sessionId), revision: outcome.revision },
          body: {
            message: replayed ? 'Telemetry batch already recorded' : 'Telemetry data uploaded successfully',
            points_created: batch.pointCount,
            batch_id: batch.batchId,
            laps_completed: batch.lapsCompleted,
            replayed,
          },
        };
      },
    }),
  ];
}
