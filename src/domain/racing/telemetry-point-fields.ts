/**
 * Field names of an uploaded point (docs/telemetry.md, "Field names"). The canonical names are the
 * document's seven channels plus the optional lap channels. Loggers written for other tools name
 * the same channels differently, so well-known aliases are accepted, in snake_case or camelCase
 * (`lapDistPct` = `lap_dist_pct`), and renamed to the canonical name. A field that is neither is
 * refused with a 400 that names it: a channel silently dropped would look like a server that
 * ignores the client's data (e.g. a position under an unknown name yields no laps).
 */

export const CANONICAL_POINT_FIELDS = [
  'timestamp',
  'speed_kmh',
  'throttle_input',
  'brake_input',
  'steering_input',
  'gear',
  'rpm',
  'completed_laps',
  'normalized_car_position',
  'current_lap_time_ms',
  'current_sector_index',
  'is_in_pit',
  'is_in_pit_lane',
  'is_valid_lap',
  'world_x',
  'world_y',
  'world_z',
] as const;
export type CanonicalPointField = (typeof CANONICAL_POINT_FIELDS)[number];

/** Alias (snake_case) → canonical field. */
export const POINT_FIELD_ALIASES: Readonly<Record<string, CanonicalPointField>> = {
  // The names of the document's own WebSocket telemetry message.
  speed: 'speed_kmh',
  throttle: 'throttle_input',
  brake: 'brake_input',
  steering: 'steering_input',
  // Fraction of the lap from the line, 0..1 (AC normalizedCarPosition / spline position, iRacing LapDistPct).
  track_position: 'normalized_car_position',
  lap_distance_pct: 'normalized_car_position',
  lap_dist_pct: 'normalized_car_position',
  spline_position: 'normalized_car_position',
  normalized_spline_position: 'normalized_car_position',
  normalized_position: 'normalized_car_position',
  lap_progress: 'normalized_car_position',
  // Laps completed (AC/ACC completedLaps, iRacing LapCompleted).
  laps_completed: 'completed_laps',
  lap_completed: 'completed_laps',
  lap_count: 'completed_laps',
  // A running lap number (iRacing Lap, F1 currentLapNum) is taken as the lap counter as sent: lap
  // detection only watches the counter rise, which a lap number does at the same line.
  lap_number: 'completed_laps',
  current_lap: 'completed_laps',
  current_lap_number: 'completed_laps',
  current_lap_num: 'completed_laps',
  lap: 'completed_laps',
  // The sim's running lap timer, ms (AC iCurrentTime).
  i_current_time: 'current_lap_time_ms',
  current_lap_ms: 'current_lap_time_ms',
  lap_time_current_ms: 'current_lap_time_ms',
  // 0-based sector index (AC/ACC currentSectorIndex).
  sector_index: 'current_sector_index',
  current_sector: 'current_sector_index',
  // Pit flags (iRacing OnPitRoad) and the sim's lap validity.
  in_pit: 'is_in_pit',
  in_pit_lane: 'is_in_pit_lane',
  on_pit_road: 'is_in_pit_lane',
  valid_lap: 'is_valid_lap',
  lap_valid: 'is_valid_lap',
};


const CANONICAL = new Set<string>(CANONICAL_POINT_FIELDS);

const snakeCase = (key: string): string =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();

export type CanonicalPoint =
  | { ok: true; point: unknown; sentAs: ReadonlyMap<string, string> }
  | { ok: false; field: string; message: string };

const NO_RENAMES: ReadonlyMap<string, string> = new Map();

/** Whether every field of the point has its canonical name (nothing to rename, nothing unknown). */
export function hasOnlyCanonicalFields(fields: Record<string, unknown>): boolean {
  for (const key in fields) if (!CANONICAL.has(key)) return false;
  return true;
}

/**
 * The point with canonical field names, and for each renamed field the name the client sent
 * (errors name the client's field). Not an object: returned unchanged for the schema to refuse.
 */
export function canonicalPoint(point: unknown): CanonicalPoint {
  if (typeof point !== 'object' || point === null || Array.isArray(point)) return { ok: true, point, sentAs: NO_RENAMES };
  const fields = point as Record<string, unknown>;
  if (hasOnlyCanonicalFields(fields)) return { ok: true, point, sentAs: NO_RENAMES };

  const renamed: Record<string, unknown> = {};
  const sentAs = new Map<string, string>();
  for (const [key, value] of Object.entries(fields)) {
    const snake = snakeCase(key);
    const canonical = CANONICAL.has(snake) ? snake : POINT_FIELD_ALIASES[snake];
    if (canonical === undefined) {
      return {
        ok: false,
        field: key,
        message: `unknown field; a point has ${CANONICAL_POINT_FIELDS.join(', ')} (aliases: docs/telemetry.md)`,
      };
    }
    const earlier = sentAs.get(canonical) ?? (canonical in renamed ? canonical : undefined);
    if (earlier !== undefined && renamed[canonical] !== value) {
      return { ok: false, field: key, message: `is another name for ${canonical}, also sent as ${earlier} with another value; send one` };
    }
    renamed[canonical] = value;
    if (key !== canonical) sentAs.set(canonical, key);
  }
  return { ok: true, point: renamed, sentAs };
}
