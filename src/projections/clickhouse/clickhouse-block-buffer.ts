import type { Analytics } from '../../infrastructure/analytics/analytics';
import { concatBlocks, type ColumnBlock } from '../../infrastructure/analytics/column-block';
import type { RecordedEvent } from '../../infrastructure/eventstore/event-store';
import { isTableBlock, outputRowCount, type TableOutput } from './clickhouse-projection';

/** Rows of one table gathered across events: columnar blocks, or compact rows (column names are the projection's, one list per table). */
type GatheredTable = { kind: 'blocks'; blocks: ColumnBlock[] } | { kind: 'rows'; columns: readonly string[]; rows: Array<readonly unknown[]> };

/**
 * Gathers the rows of many events into one block per table, for a replay into fresh tables:
 * ClickHouse takes one 50k-row insert far faster than a thousand 50-row ones. The events whose
 * rows are in the current blocks are kept, so a block the engine refuses can be inserted again
 * event by event to find the one to quarantine.
 */
export class ClickHouseBlockBuffer {
  private tables = new Map<string, GatheredTable>();
  private events: Array<{ event: RecordedEvent; outputs: TableOutput[] }> = [];
  private rowCount = 0;

  constructor(readonly blockRows: number) {}

  get rows(): number {
    return this.rowCount;
  }

  get full(): boolean {
    return this.rowCount >= this.blockRows;
  }

  add(event: RecordedEvent, outputs: TableOutput[]): void {
    this.events.push({ event, outputs });
    for (const output of outputs) {
      const count = outputRowCount(output);
      if (count === 0) continue;
      const gathered = this.tables.get(output.table);
      if (isTableBlock(output)) {
        if (gathered === undefined) this.tables.set(output.table, { kind: 'blocks', blocks: [output.block] });
        else if (gathered.kind === 'blocks') gathered.blocks.push(output.block);
        else throw new Error(`ClickHouse table ${output.table}: rows come as blocks from one event and as rows from another`);
      } else if (gathered === undefined) {
        this.tables.set(output.table, { kind: 'rows', columns: output.columns, rows: [...output.rows] });
      } else if (gathered.kind === 'rows') {
        for (const row of output.rows) gathered.rows.push(row);
      } else {
        throw new Error(`ClickHouse table ${output.table}: rows come as blocks from one event and as rows from another`);
      }
      this.rowCount += count;
    }
  }

  /** Takes what is gathered and empties the buffer. */
  take(): { tables: Map<string, GatheredTable>; events: Array<{ event: RecordedEvent; outputs: TableOutput[] }>; rows: number } {
    const taken = { tables: this.tables, events: this.events, rows: this.rowCount };
    this.tables = new Map();
    this.events = [];
    this.rowCount = 0;
    return taken;
  }
}

/** Inserts taken blocks, one insert per table (chunked by the adapter), without tokens: the tables are fresh. */
export async function insertBlocks(analytics: Analytics, tables: Map<string, GatheredTable>, tableName: (table: string) => string): Promise<void> {
  for (const [table, gathered] of tables) {
    if (gathered.kind === 'blocks') await analytics.insertColumns(tableName(table), concatBlocks(gathered.blocks));
    else await analytics.insertCompact(tableName(table), { columns: gathered.columns, rows: gathered.rows });
  }
}
