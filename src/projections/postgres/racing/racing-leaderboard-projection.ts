import type { Knex } from 'knex';
import { consistency } from '../../../domain/racing/lap-statistics';
import { SESSION_CATEGORY, type LapCompleted } from '../../../domain/racing/telemetry-session-events';
import { postgresProjection } from '../postgres-projection';
import { jsonLiteral, jsonText, quoteIdentifier } from '../row-fold';

export const LAP_TIMES_TABLE = 'racing_lap_times';
export const LEADERBOARD_TABLE = 'racing_leaderboard';
/** The same boards over valid laps including estimated ones (`include_estimated=true`). */
export const LEADERBOARD_WITH_ESTIMATED_TABLE = 'racing_leaderboard_with_estimated';

/**
 * Track + car leaderboards from LapCompleted events (docs/analytics.md, "Leaderboard").
 *
 * `racing_lap_times` keeps every lap; `racing_leaderboard` holds, per track, car, category
 * (`overall`, `sector_1`, ...) and user, the user's best valid time there and the consistency
 * score of all their valid times there. A valid lap recomputes its user's entries from
 * `racing_lap_times` (a user has hundreds of laps on a track, not millions), so the rows depend
 * only on the set of laps: the live path and `arena replay leaderboards` give identical rows.
 * Laps estimated without positions (never verified) enter only `racing_leaderboard_with_estimated`,
 * which holds the same boards over measured and estimated laps together.
 *
 * A rebuild inserts each page's laps in one statement and computes the boards once, after the
 * last page, from all the laps (the same rows: they depend only on the set of laps).
 */
export const racingLeaderboardProjection = postgresProjection({
  name: 'racing_leaderboards',
  categories: [SESSION_CATEGORY],
  tables: [LAP_TIMES_TABLE, LEADERBOARD_TABLE, LEADERBOARD_WITH_ESTIMATED_TABLE],
  async createTables(db: Knex | Knex.Transaction) {
    if (!(await db.schema.hasTable(LAP_TIMES_TABLE))) {
      await db.schema.createTable(LAP_TIMES_TABLE, (table) => {
        table.uuid('session_id').notNullable();
        table.integer('lap_number').notNullable();
        table.uuid('user_id').notNullable();
        table.text('track_name').notNullable();
        table.text('car_model').notNullable();
        table.integer('lap_time_ms').notNullable();
        /** JSON array, one entry per sector, null where unobserved. */
        table.jsonb('sector_times_ms').notNullable();
        table.boolean('valid').notNullable();
        table.boolean('is_verified').notNullable();
        table.timestamp('started_at', { useTz: true }).notNullable();
        table.timestamp('ended_at', { useTz: true }).notNullable();
        table.boolean('estimated').notNullable().defaultTo(false);
        table.primary(['session_id', 'lap_number']);
        table.index(['user_id', 'track_name', 'car_model', 'ended_at']);
      });
    } else if (!(await db.schema.hasColumn(LAP_TIMES_TABLE, 'estimated'))) {
      // Tables made before lap estimation existed.
      await db.schema.alterTable(LAP_TIMES_TABLE, (table) => table.boolean('estimated').notNullable().defaultTo(false));
    }
    for (const board of [LEADERBOARD_TABLE, LEADERBOARD_WITH_ESTIMATED_TABLE]) await createBoard(db, board);
  },
  on: {
    async LapCompleted({ data: lap }, trx) {
      await trx(LAP_TIMES_TABLE).insert(lapTimeRow(lap)).onConflict(['session_id', 'lap_number']).ignore();
      // Invalid laps change neither a best time nor the consistency of valid laps.
      if (!lap.valid) return;
      if (!lap.estimated) await recomputeEntries(trx, LEADERBOARD_TABLE, false, lap.ownerId, lap.trackName, lap.carModel);
      await recomputeEntries(trx, LEADERBOARD_WITH_ESTIMATED_TABLE, true, lap.ownerId, lap.trackName, lap.carModel);
    },
  },
  batchOn: {
    /**
     * A run of laps: one multi-row insert (the first of duplicates wins, as one by one), then each
     * touched user/track/car's entries recomputed once per board. The entries depend only on the
     * set of laps, so recomputing once after the last lap gives the rows recomputing after each did:
     * every touched entry's laps read in one statement, each board written in one.
     */
    async LapCompleted(events, trx) {
      for (let start = 0; start < events.length; start += LAP_INSERT_ROWS) {
        const rows = events.slice(start, start + LAP_INSERT_ROWS).map(({ data }) => lapTimeRow(data));
        await trx(LAP_TIMES_TABLE).insert(rows).onConflict(['session_id', 'lap_number']).ignore();
      }
      const touched = new Map<string, { userId: string; trackName: string; carModel: string; measured: boolean }>();
      for (const { data: lap } of events) {
        if (!lap.valid) continue;
        const key = JSON.stringify([lap.ownerId, lap.trackName, lap.carModel]);
        const entry = touched.get(key) ?? { userId: lap.ownerId, trackName: lap.trackName, carModel: lap.carModel, measured: false };
        entry.measured ||= !lap.estimated;
        touched.set(key, entry);
      }
      await recomputeAllEntries(trx, [...touched.values()]);
    },
  },
  rebuild: {
    /** The page's laps in one INSERT … ON CONFLICT DO NOTHING (the first of duplicates wins, as one by one). */
    page(events) {
      const laps = events.flatMap((event) => (event.type === 'LapCompleted' ? [{ ...lapTimeRow(event.data), sector_times_ms: event.data.sectorTimesMs }] : []));
      if (laps.length === 0) return [];
      const table = quoteIdentifier(LAP_TIMES_TABLE);
      const columns = Object.keys(laps[0]!).map(quoteIdentifier).join(', ');
      return [`INSERT INTO ${table} (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::${table}, ${jsonLiteral(laps)}) ON CONFLICT (session_id, lap_number) DO NOTHING`];
    },
    /**
     * Every user/track/car with a valid lap: its entries on both boards, from its laps. The
     * combinations in key order, their laps read a range of combinations at a time (an index range,
     * not a list of keys to plan), each board's entries written in one statement per range.
     */
    async finish(trx) {
      const combinations: { user_id: string; track_name: string; car_model: string }[] = await trx(LAP_TIMES_TABLE)
        .where({ valid: true })
        .distinct('user_id', 'track_name', 'car_model')
        .orderBy(['user_id', 'track_name', 'car_model']);
      for (let start = 0; start < combinations.length; start += FINISH_COMBINATIONS) {
        const first = combinations[start]!;
        const last = combinations[Math.min(start + FINISH_COMBINATIONS, combinations.length) - 1]!;
        const laps: (ValidLap & { user_id: string; track_name: string; car_model: string })[] = await trx(LAP_TIMES_TABLE)
          .where({ valid: true })
          .whereRaw('(user_id, track_name, car_model) >= (?::uuid, ?, ?)', [first.user_id, first.track_name, first.car_model])
          .whereRaw('(user_id, track_name, car_model) <= (?::uuid, ?, ?)', [last.user_id, last.track_name, last.car_model])
          .orderBy(['user_id', 'track_name', 'car_model', 'ended_at', 'session_id', 'lap_number'])
          .select('user_id', 'track_name', 'car_model', 'session_id', 'lap_number', 'lap_time_ms', 'sector_times_ms', 'is_verified', 'estimated', 'ended_at');
        const measured: BoardEntry[] = [];
        const withEstimated: BoardEntry[] = [];
        for (let from = 0; from < laps.length; ) {
          const { user_id: userId, track_name: trackName, car_model: carModel } = laps[from]!;
          let to = from + 1;
          while (to < laps.length && laps[to]!.user_id === userId && laps[to]!.track_name === trackName && laps[to]!.car_model === carModel) to++;
          const own = laps.slice(from, to);
          const entries = boardEntries(own, userId, trackName, carModel);
          withEstimated.push(...entries);
          // Without estimated laps both boards are computed from the same laps: the same entries.
          measured.push(...(own.some((lap) => lap.estimated) ? boardEntries(own.filter((lap) => !lap.estimated), userId, trackName, carModel) : entries));
          from = to;
        }
        for (const [board, entries] of [[LEADERBOARD_TABLE, measured], [LEADERBOARD_WITH_ESTIMATED_TABLE, withEstimated]] as const) {
          if (entries.length > 0) await trx.raw(boardUpsert(board), [jsonText(entries)]);
        }
      }
    },
  },
});

/** The statement that writes a board's entries (one JSON parameter), replacing those of the same board key. */
function boardUpsert(board: string): string {
  const table = quoteIdentifier(board);
  const columns = BOARD_COLUMNS.map(quoteIdentifier);
  const list = columns.join(', ');
  return `INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${table}, ?::json)
    ON CONFLICT (track_name, car_model, category, user_id) DO UPDATE SET ${columns.map((column) => `${column} = excluded.${column}`).join(', ')}`;
}

/** User/track/car combinations whose laps a rebuild's finish reads at once. */
const FINISH_COMBINATIONS = 2000;

/** Laps per INSERT of a batch (12 parameters each, far below PostgreSQL's 65 535). */
const LAP_INSERT_ROWS = 1000;

function lapTimeRow(lap: LapCompleted['data']) {
  return {
    session_id: lap.sessionId,
    lap_number: lap.lapNumber,
    user_id: lap.ownerId,
    track_name: lap.trackName,
    car_model: lap.carModel,
    lap_time_ms: lap.lapTimeMs,
    sector_times_ms: JSON.stringify(lap.sectorTimesMs),
    valid: lap.valid,
    is_verified: lap.isVerified,
    started_at: new Date(lap.startedAtMs).toISOString(),
    ended_at: new Date(lap.endedAtMs).toISOString(),
    estimated: lap.estimated,
  };
}

async function createBoard(db: Knex | Knex.Transaction, name: string): Promise<void> {
  if (await db.schema.hasTable(name)) {
    if (!(await db.schema.hasColumn(name, 'estimated'))) {
      await db.schema.alterTable(name, (table) => table.boolean('estimated').notNullable().defaultTo(false));
    }
    return;
  }
  await db.schema.createTable(name, (table) => {
    table.text('track_name').notNullable();
    table.text('car_model').notNullable();
    table.text('category').notNullable();
    table.uuid('user_id').notNullable();
    table.integer('time_ms').notNullable();
    table.uuid('session_id').notNullable();
    table.integer('lap_number').notNullable();
    table.double('consistency_score');
    table.integer('valid_laps').notNullable();
    table.timestamp('record_date', { useTz: true }).notNullable();
    table.boolean('is_verified').notNullable();
    table.boolean('estimated').notNullable().defaultTo(false);
    table.primary(['track_name', 'car_model', 'category', 'user_id']);
    table.index(['track_name', 'car_model', 'category', 'time_ms']);
  });
}

interface ValidLap {
  session_id: string;
  lap_number: number;
  lap_time_ms: number;
  sector_times_ms: Array<number | null>;
  is_verified: boolean;
  estimated: boolean;
  ended_at: Date;
}

interface Timed {
  lap: ValidLap;
  timeMs: number;
}

/** Rows per upsert of recomputed entries (12 parameters each). */
const ENTRY_UPSERT_ROWS = 4000;

/**
 * Recomputes the entries of several user/track/car combinations: their valid laps read in one
 * statement (the order of {@link recomputeEntries}), each board written in one upsert per 4 000
 * entries. `measured`: a lap that is not estimated was added, so the measured board changes too.
 */
async function recomputeAllEntries(trx: Knex.Transaction, touched: { userId: string; trackName: string; carModel: string; measured: boolean }[]): Promise<void> {
  if (touched.length === 0) return;
  const keyOf = (userId: string, trackName: string, carModel: string) => JSON.stringify([userId, trackName, carModel]);
  const rows: (ValidLap & { user_id: string; track_name: string; car_model: string })[] = await trx(LAP_TIMES_TABLE)
    .where({ valid: true })
    .whereIn(
      ['user_id', 'track_name', 'car_model'],
      touched.map(({ userId, trackName, carModel }) => [userId, trackName, carModel]),
    )
    .orderBy([{ column: 'ended_at' }, { column: 'session_id' }, { column: 'lap_number' }])
    .select('user_id', 'track_name', 'car_model', 'session_id', 'lap_number', 'lap_time_ms', 'sector_times_ms', 'is_verified', 'estimated', 'ended_at');
  const lapsOf = new Map<string, ValidLap[]>();
  for (const row of rows) {
    const key = keyOf(row.user_id, row.track_name, row.car_model);
    const laps = lapsOf.get(key) ?? [];
    laps.push(row);
    lapsOf.set(key, laps);
  }
  const measuredEntries: BoardEntry[] = [];
  const withEstimated: BoardEntry[] = [];
  for (const { userId, trackName, carModel, measured } of touched) {
    const laps = lapsOf.get(keyOf(userId, trackName, carModel)) ?? [];
    if (measured) measuredEntries.push(...boardEntries(laps.filter((lap) => !lap.estimated), userId, trackName, carModel));
    withEstimated.push(...boardEntries(laps, userId, trackName, carModel));
  }
  for (const [board, entries] of [[LEADERBOARD_TABLE, measuredEntries], [LEADERBOARD_WITH_ESTIMATED_TABLE, withEstimated]] as const) {
    for (let start = 0; start < entries.length; start += ENTRY_UPSERT_ROWS) {
      await trx(board).insert(entries.slice(start, start + ENTRY_UPSERT_ROWS)).onConflict(['track_name', 'car_model', 'category', 'user_id']).merge();
    }
  }
}

async function recomputeEntries(
  trx: Knex.Transaction,
  board: string,
  includeEstimated: boolean,
  userId: string,
  trackName: string,
  carModel: string,
): Promise<void> {
  const query = trx(LAP_TIMES_TABLE).where({ user_id: userId, track_name: trackName, car_model: carModel, valid: true });
  if (!includeEstimated) query.andWhere({ estimated: false });
  const laps: ValidLap[] = await query
    .orderBy([{ column: 'ended_at' }, { column: 'session_id' }, { column: 'lap_number' }])
    .select('session_id', 'lap_number', 'lap_time_ms', 'sector_times_ms', 'is_verified', 'estimated', 'ended_at');
  const entries = boardEntries(laps, userId, trackName, carModel);
  // One statement for every category (each appears once, so no row is touched twice).
  if (entries.length > 0) await trx(board).insert(entries).onConflict(['track_name', 'car_model', 'category', 'user_id']).merge();
}

type BoardEntry = ReturnType<typeof boardEntries>[number];
/** The columns of a board's entries (what boardEntries gives). */
const BOARD_COLUMNS: readonly (keyof BoardEntry)[] = ['track_name', 'car_model', 'category', 'user_id', 'time_ms', 'session_id', 'lap_number', 'consistency_score', 'valid_laps', 'record_date', 'is_verified', 'estimated'];

/** A user's entries on one track and car (one per category with a time), from their valid laps in chronological order. */
function boardEntries(laps: ValidLap[], userId: string, trackName: string, carModel: string) {
  const sectorCount = laps.reduce((count, lap) => Math.max(count, lap.sector_times_ms.length), 0);
  const categories: Array<[string, Timed[]]> = [['overall', laps.map((lap) => ({ lap, timeMs: lap.lap_time_ms }))]];
  for (let sector = 0; sector < sectorCount; sector += 1) {
    const timed = laps.flatMap((lap) => {
      const time = lap.sector_times_ms[sector];
      return typeof time === 'number' ? [{ lap, timeMs: time }] : [];
    });
    categories.push([`sector_${sector + 1}`, timed]);
  }
  return categories
    .filter(([, timed]) => timed.length > 0)
    .map(([category, timed]) => {
      // Chronological order: on equal times the record belongs to whoever set it first.
      const best = timed.reduce((a, b) => (b.timeMs < a.timeMs ? b : a));
      return {
        track_name: trackName,
        car_model: carModel,
        category,
        user_id: userId,
        time_ms: best.timeMs,
        session_id: best.lap.session_id,
        lap_number: best.lap.lap_number,
        consistency_score: consistency(timed.map((entry) => entry.timeMs)).score,
        valid_laps: timed.length,
        record_date: best.lap.ended_at,
        is_verified: best.lap.is_verified,
        estimated: best.lap.estimated,
      };
    });
}
