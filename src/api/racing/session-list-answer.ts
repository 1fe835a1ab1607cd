import type { Knex } from 'knex';
import {
  listTelemetrySessions,
  listTelemetrySessionVersions,
  telemetrySessionsByIds,
  type SessionListFilter,
  type TelemetrySessionRow,
} from '../../projections/postgres/racing/telemetry-session-queries';
import { JsonText } from '../shared/json-text';

/**
 * GET /telemetry/sessions without rebuilding what has not changed. The answer of each session (its
 * JSON, as `sessionJson` writes it) is kept per row version (`xmin`, see VersionedSessionId): a page
 * reads only its ids, versions and total, and only rows that are new to this process, or changed
 * since, are read in full and turned into JSON again. The bytes are those of
 * `JSON.stringify({ sessions, total, limit, offset })`, each session rendered by the same function.
 */
export class SessionListAnswers {
  readonly #answers = new Map<string, { version: string; json: string }>();

  constructor(
    private readonly db: Knex,
    private readonly sessionJson: (row: TelemetrySessionRow) => string,
    /** Bound on the rows kept; the oldest entry goes first. */
    private readonly maxEntries = 10_000,
  ) {}

  async page(filter: SessionListFilter): Promise<JsonText> {
    const page = await listTelemetrySessionVersions(this.db, filter);
    const missing = page.sessions.filter(({ id, version }) => this.#answers.get(id)?.version !== version).map(({ id }) => id);
    // Read just now, possibly a version newer than the page's: a row's latest committed state.
    const fresh = new Map<string, string>();
    for (const { row, version } of await telemetrySessionsByIds(this.db, missing)) {
      const json = this.sessionJson(row);
      fresh.set(row.id, json);
      this.#remember(row.id, version, json);
    }
    const sessions: string[] = [];
    for (const { id, version } of page.sessions) {
      const json = fresh.get(id) ?? (this.#answers.get(id)?.version === version ? this.#answers.get(id)?.json : undefined);
      // Gone between the two reads (a rebuilt read model swapped in): answer from one statement instead.
      if (json === undefined) return this.#fromOneRead(filter);
      sessions.push(json);
    }
    return new JsonText(`{"sessions":[${sessions.join(',')}],${pageTail(page.total, filter)}}`);
  }

  async #fromOneRead(filter: SessionListFilter): Promise<JsonText> {
    const { rows, total } = await listTelemetrySessions(this.db, filter);
    return new JsonText(`{"sessions":[${rows.map(this.sessionJson).join(',')}],${pageTail(total, filter)}}`);
  }

  #remember(id: string, version: string, json: string): void {
    this.#answers.delete(id);
    if (this.#answers.size >= this.maxEntries) this.#answers.delete(this.#answers.keys().next().value as string);
    this.#answers.set(id, { version, json });
  }
}

/** `"total":…,"limit":…,"offset":…` as JSON.stringify writes them (numbers). */
function pageTail(total: number, filter: SessionListFilter): string {
  return `"total":${JSON.stringify(total)},"limit":${JSON.stringify(filter.limit)},"offset":${JSON.stringify(filter.offset)}`;
}
