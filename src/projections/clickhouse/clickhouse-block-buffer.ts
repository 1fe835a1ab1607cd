import type { Analytics } from '../../infrastructure/analytics/analytics';
import type { RecordedEvent } from '../../infrastructure/eventstore/event-store';
import type { TableRows } from './clickhouse-projection';

/** Rows of one table gathered across events (column names are the projection's, one list per table). */
interface TableBlock {
  columns: readonly string[];
  rows: Array<readonly unknown[]>;
}

/**
 * Gathers the rows of many events into one block per table, for a replay into fresh tables:
 * ClickHouse takes one 50k-row insert far faster than a thousand 50-row ones. The events whose
 * rows are in the current blocks are kept, so a block the engine refuses can be inserted again
 * event by event to find the one to quarantine.
 */
export class ClickHouseBlockBuffer {
  private blocks = new Map<string, TableBlock>();
  private events: Array<{ event: RecordedEvent; rows: TableRows[] }> = [];
  private rowCount = 0;

  constructor(readonly blockRows: number) {}

  get rows(): number {
    return this.rowCount;
  }

  get full(): boolean {
    return this.rowCount >= this.blockRows;
  }

  add(event: RecordedEvent, tables: TableRows[]): void {
    this.events.push({ event, rows: tables });
    for (const { table, columns, rows } of tables) {
      if (rows.length === 0) continue;
      let block = this.blocks.get(table);
      if (block === undefined) {
        block = { columns, rows: [] };
        this.blocks.set(table, block);
      }
      for (const row of rows) block.rows.push(row);
      this.rowCount += rows.length;
    }
  }

  /** Takes what is gathered and empties the buffer. */
  take(): { blocks: Map<string, TableBlock>; events: Array<{ event: RecordedEvent; rows: TableRows[] }>; rows: number } {
    const taken = { blocks: this.blocks, events: this.events, rows: this.rowCount };
    this.blocks = new Map();
    this.events = [];
    this.rowCount = 0;
    return taken;
  }
}

/** Inserts taken blocks, one compact insert per table (chunked by the adapter), without tokens: the tables are fresh. */
export async function insertBlocks(analytics: Analytics, blocks: Map<string, TableBlock>, tableName: (table: string) => string): Promise<void> {
  for (const [table, block] of blocks) await analytics.insertCompact(tableName(table), block);
}
