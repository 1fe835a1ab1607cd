import {
  OPTIONAL_BOOLEAN_CHANNELS,
  OPTIONAL_NUMBER_CHANNELS,
  REQUIRED_CHANNELS,
  batchLength,
  emptyColumns,
  type TelemetryBatchColumns,
} from './telemetry-batch';

/**
 * How one upload is recorded as several TelemetryBatchRecorded parts when its points would make
 * one event too large for the event store (EventStoreDB refuses appends over 1 MiB by default;
 * a 100,000-point upload is tens of MB of JSON). Parts are consecutive slices of the upload's
 * points, in order; each part's columns encode to at most `maxPartBytes` of JSON (at least one
 * point per part). The rule depends only on the points and the budget, and a part is cut from the
 * first point not yet recorded, so a retry after a partial failure goes on where it stopped.
 */

const CHANNELS = [...REQUIRED_CHANNELS, ...OPTIONAL_NUMBER_CHANNELS, ...OPTIONAL_BOOLEAN_CHANNELS] as const;

function presentChannels(columns: TelemetryBatchColumns): Array<(typeof CHANNELS)[number]> {
  return CHANNELS.filter((channel) => columns[channel] !== undefined);
}

/** JSON bytes of point `index` across the present channels, with its separating comma. */
function pointBytes(columns: TelemetryBatchColumns, channels: ReadonlyArray<(typeof CHANNELS)[number]>, index: number): number {
  let bytes = 0;
  for (const channel of channels) bytes += JSON.stringify(columns[channel]![index] ?? null).length + 1;
  return bytes;
}

/** JSON bytes of the columns object without any point: `{"name":[],...}`. */
function emptyColumnsBytes(channels: ReadonlyArray<string>): number {
  return 2 + channels.reduce((sum, channel) => sum + channel.length + 5, 0);
}

/**
 * JSON bytes of points [from, end) counted as {@link pointBytes} does, from one JSON.stringify per
 * column: `[a,b,c]` is each value, a comma between, and two brackets.
 */
function restBytes(columns: TelemetryBatchColumns, channels: ReadonlyArray<(typeof CHANNELS)[number]>, from: number): number {
  let bytes = 0;
  for (const channel of channels) {
    const column = columns[channel]!;
    bytes += JSON.stringify(from === 0 ? column : column.slice(from)).length - 1;
  }
  return bytes;
}

/** End (exclusive) of the part that starts at point `from`. */
export function partEnd(columns: TelemetryBatchColumns, from: number, maxPartBytes: number): number {
  const length = batchLength(columns);
  const channels = presentChannels(columns);
  let bytes = emptyColumnsBytes(channels);
  // The common case, the rest fits in one part: one stringify per column, not one per value.
  if (from < length && bytes + restBytes(columns, channels, from) <= maxPartBytes) return length;
  let end = from;
  while (end < length) {
    const next = pointBytes(columns, channels, end);
    if (end > from && bytes + next > maxPartBytes) break;
    bytes += next;
    end += 1;
  }
  return end;
}

/** Points [from, to) of the batch, with the same channels present. */
export function sliceColumns(columns: TelemetryBatchColumns, from: number, to: number): TelemetryBatchColumns {
  if (from === 0 && to === batchLength(columns)) return columns;
  const part = emptyColumns();
  for (const channel of REQUIRED_CHANNELS) part[channel] = columns[channel].slice(from, to);
  for (const channel of OPTIONAL_NUMBER_CHANNELS) {
    const column = columns[channel];
    if (column !== undefined) part[channel] = column.slice(from, to);
  }
  for (const channel of OPTIONAL_BOOLEAN_CHANNELS) {
    const column = columns[channel];
    if (column !== undefined) part[channel] = column.slice(from, to);
  }
  return part;
}

/** Every part of a batch, in order (what recording it whole, part after part, stores). */
export function splitIntoParts(columns: TelemetryBatchColumns, maxPartBytes: number): TelemetryBatchColumns[] {
  const parts: TelemetryBatchColumns[] = [];
  for (let from = 0; from < batchLength(columns); ) {
    const to = partEnd(columns, from, maxPartBytes);
    parts.push(sliceColumns(columns, from, to));
    from = to;
  }
  return parts;
}
