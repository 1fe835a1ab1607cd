import { z } from 'zod';
import { assertIdentifier, type Analytics } from '../../infrastructure/analytics/analytics';
import { selectRows, textValues } from '../../infrastructure/analytics/column-block';
import { isTableBlock, type RowIdentity, type TableOutput } from './clickhouse-projection';

/**
 * Which rows of a gathered block a table already holds, by row identity (RowIdentity: a UUID
 * group column and a column ordered within it). One primary-key range read per insert: for each
 * group in the block, the keys between its smallest and largest order value. On the live path
 * that range lies after everything stored, so the answer is empty and costs the index alone.
 */

/** The group and order value of every row of an output. */
function rowKeys(output: TableOutput, identity: RowIdentity): { groups: string[]; orders: ArrayLike<number> } {
  if (isTableBlock(output)) {
    const { block } = output;
    const group = block.columns.find((column) => column.name === identity.group);
    const order = block.columns.find((column) => column.name === identity.order);
    if (group?.kind !== 'text') throw new Error(`row identity: block column ${identity.group} must be text`);
    if (order === undefined || (order.kind !== 'epochMs' && order.kind !== 'number')) throw new Error(`row identity: block column ${identity.order} must be numeric`);
    return { groups: textValues(group.runs, block.rowCount), orders: order.values };
  }
  const groupIndex = output.columns.indexOf(identity.group);
  const orderIndex = output.columns.indexOf(identity.order);
  if (groupIndex < 0 || orderIndex < 0) throw new Error(`row identity: rows of ${output.table} lack ${identity.group} or ${identity.order}`);
  return {
    groups: output.rows.map((row) => String(row[groupIndex])),
    orders: output.rows.map((row) => Number(row[orderIndex])),
  };
}

const keyOf = (group: string, order: number): string => `${group.toLowerCase()}|${order}`;

const PresentKey = z.object({ g: z.string(), o: z.coerce.number() });

/**
 * The output without the rows whose identity `table` (the name actually written) already holds,
 * and whether any was left out.
 */
export async function withoutStoredRows(analytics: Analytics, table: string, identity: RowIdentity, output: TableOutput): Promise<{ output: TableOutput; leftOut: number }> {
  assertIdentifier('table', table);
  assertIdentifier('column', identity.group);
  assertIdentifier('column', identity.order);
  const { groups, orders } = rowKeys(output, identity);
  const ranges = new Map<string, { lo: number; hi: number }>();
  for (let i = 0; i < groups.length; i += 1) {
    const order = orders[i]!;
    const range = ranges.get(groups[i]!);
    if (range === undefined) ranges.set(groups[i]!, { lo: order, hi: order });
    else {
      if (order < range.lo) range.lo = order;
      if (order > range.hi) range.hi = order;
    }
  }
  if (ranges.size === 0) return { output, leftOut: 0 };
  const bound = (param: string) => (identity.orderKind === 'epochMs' ? `fromUnixTimestamp64Milli({${param}:Int64}, 'UTC')` : `{${param}:Int64}`);
  const params: Record<string, unknown> = {};
  const conditions: string[] = [];
  for (const [group, { lo, hi }] of ranges) {
    const i = conditions.length;
    params[`g${i}`] = group;
    params[`lo${i}`] = lo;
    params[`hi${i}`] = hi;
    conditions.push(`(${identity.group} = {g${i}:UUID} AND ${identity.order} BETWEEN ${bound(`lo${i}`)} AND ${bound(`hi${i}`)})`);
  }
  const orderValue = identity.orderKind === 'epochMs' ? `toUnixTimestamp64Milli(${identity.order})` : `toInt64(${identity.order})`;
  const stored = await analytics.query(
    `SELECT toString(${identity.group}) AS g, ${orderValue} AS o FROM {db}.${table} WHERE ${conditions.join(' OR ')}`,
    params,
    PresentKey,
  );
  if (stored.length === 0) return { output, leftOut: 0 };
  const present = new Set(stored.map((key) => keyOf(key.g, key.o)));
  const keep = new Uint8Array(groups.length);
  let leftOut = 0;
  for (let i = 0; i < groups.length; i += 1) {
    if (present.has(keyOf(groups[i]!, orders[i]!))) leftOut += 1;
    else keep[i] = 1;
  }
  if (leftOut === 0) return { output, leftOut };
  if (isTableBlock(output)) return { output: { table: output.table, block: selectRows(output.block, keep) }, leftOut };
  return { output: { ...output, rows: output.rows.filter((_, i) => keep[i] === 1) }, leftOut };
}
