import type { Knex } from 'knex';
import { SESSION_CATEGORY } from '../../../domain/racing/telemetry-session-events';
import type { SessionCreated } from '../../../domain/racing/telemetry-session-events';
import { postgresProjection } from '../postgres-projection';
import { add, ifNull, least } from '../row-fold';

export const TELEMETRY_SESSIONS_TABLE = 'telemetry_sessions';

/**
 * `telemetry_sessions`: one row per session for GET /telemetry/sessions(/{id}) and for the owner
 * checks of analytics and WebSocket subscriptions. Counts come from the events only.
 */
/** The columns a SessionCreated event sets (the others start at their table defaults). */
export function sessionCreatedColumns(data: SessionCreated['data']) {
  return {
    id: data.sessionId,
    owner_id: data.ownerId,
    session_name: data.sessionName,
    track_name: data.trackName,
    car_model: data.carModel,
    weather_conditions: data.weatherConditions,
    track_temperature: data.trackTemperatureC,
    air_temperature: data.airTemperatureC,
    track_length_m: data.trackLengthM,
    created_at: data.createdAt,
  };
}

export const telemetrySessionsProjection = postgresProjection({
  name: 'telemetry_sessions',
  categories: [SESSION_CATEGORY],
  tables: [TELEMETRY_SESSIONS_TABLE],
  // One row per session stream, written only by that stream's events.
  streamLocal: true,
  async createTables(db: Knex | Knex.Transaction) {
    if (await db.schema.hasTable(TELEMETRY_SESSIONS_TABLE)) return;
    await db.schema.createTable(TELEMETRY_SESSIONS_TABLE, (table) => {
      table.uuid('id').primary();
      table.uuid('owner_id').notNullable();
      table.text('session_name').notNullable();
      table.text('track_name').notNullable();
      table.text('car_model').notNullable();
      table.text('weather_conditions');
      table.double('track_temperature');
      table.double('air_temperature');
      table.double('track_length_m');
      table.integer('total_laps').notNullable().defaultTo(0);
      table.integer('valid_laps').notNullable().defaultTo(0);
      table.integer('best_lap_time_ms');
      table.bigInteger('data_points').notNullable().defaultTo(0);
      table.integer('batches').notNullable().defaultTo(0);
      /** Time of the first telemetry point (null until data arrives). */
      table.timestamp('session_start', { useTz: true });
      table.timestamp('last_point_at', { useTz: true });
      table.boolean('is_complete').notNullable().defaultTo(false);
      table.timestamp('created_at', { useTz: true }).notNullable();
      table.timestamp('completed_at', { useTz: true });
      table.index(['owner_id', 'created_at']);
    });
  },
  fold: {
    // The counters a created row starts with (the table's defaults).
    tables: [{ table: TELEMETRY_SESSIONS_TABLE, key: 'id', defaults: { total_laps: 0, valid_laps: 0, best_lap_time_ms: null, data_points: 0, batches: 0, session_start: null } }],
    on: {
      SessionCreated({ data }, rows) {
        rows.insertIgnore(TELEMETRY_SESSIONS_TABLE, sessionCreatedColumns(data));
      },
      TelemetryBatchRecorded({ data }, rows) {
        rows.update(TELEMETRY_SESSIONS_TABLE, data.sessionId, {
          data_points: add(data.pointCount),
          batches: add(1),
          session_start: ifNull(new Date(data.firstTimestampMs).toISOString()),
          last_point_at: new Date(data.lastTimestampMs).toISOString(),
        });
      },
      LapCompleted({ data }, rows) {
        rows.update(TELEMETRY_SESSIONS_TABLE, data.sessionId, {
          total_laps: add(1),
          ...(data.valid ? { valid_laps: add(1), best_lap_time_ms: least(data.lapTimeMs) } : {}),
        });
      },
      SessionCompleted({ data }, rows) {
        rows.update(TELEMETRY_SESSIONS_TABLE, data.sessionId, { is_complete: true, completed_at: data.completedAt });
      },
    },
  },
  batchOn: {
    /** One update per session: the points and batches summed, the first start kept, the last end set. */
    async TelemetryBatchRecorded(events, trx) {
      const sessions = new Map<string, { points: number; batches: number; firstMs: number; lastMs: number }>();
      for (const { data } of events) {
        const session = sessions.get(data.sessionId);
        if (session) {
          session.points += data.pointCount;
          session.batches += 1;
          session.lastMs = data.lastTimestampMs;
        } else {
          sessions.set(data.sessionId, { points: data.pointCount, batches: 1, firstMs: data.firstTimestampMs, lastMs: data.lastTimestampMs });
        }
      }
      for (const [sessionId, session] of sessions) {
        await trx(TELEMETRY_SESSIONS_TABLE)
          .where({ id: sessionId })
          .update({
            data_points: trx.raw('data_points + ?', [session.points]),
            batches: trx.raw('batches + ?', [session.batches]),
            session_start: trx.raw('coalesce(session_start, ?)', [new Date(session.firstMs).toISOString()]),
            last_point_at: new Date(session.lastMs).toISOString(),
          });
      }
    },
    /** One update per session: the laps counted, the best valid time the least of all (least() skips nulls). */
    async LapCompleted(events, trx) {
      const sessions = new Map<string, { laps: number; valid: number; best: number | null }>();
      for (const { data } of events) {
        const session = sessions.get(data.sessionId) ?? { laps: 0, valid: 0, best: null };
        session.laps += 1;
        if (data.valid) {
          session.valid += 1;
          session.best = session.best === null ? data.lapTimeMs : Math.min(session.best, data.lapTimeMs);
        }
        sessions.set(data.sessionId, session);
      }
      for (const [sessionId, session] of sessions) {
        await trx(TELEMETRY_SESSIONS_TABLE)
          .where({ id: sessionId })
          .update({
            total_laps: trx.raw('total_laps + ?', [session.laps]),
            ...(session.best !== null
              ? { valid_laps: trx.raw('valid_laps + ?', [session.valid]), best_lap_time_ms: trx.raw('least(best_lap_time_ms, ?)', [session.best]) }
              : {}),
          });
      }
    },
  },
});
