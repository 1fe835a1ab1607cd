import type { Knex } from 'knex';
import {
  listTelemetrySessions,
  listTelemetrySessionVersions,
  pageSessions,
  telemetrySessionsByIds,
  type SessionListFilter,
  type SessionPageVersions,
  type TelemetrySessionRow,
} from '../../projections/postgres/racing/telemetry-session-queries';
import { JsonText } from '../shared/json-text';

/**
 * GET /telemetry/sessions without rebuilding what has not changed. The answer of each session (its
 * JSON, as `sessionJson` writes it) is kept per row version (`xmin`, see VersionedSessionId): a page
 * reads only its ids, versions and total, and only rows that are new to this process, or changed
 * since, are read in full and turned into JSON again. A page whose sessions, versions, total,
 * limit and offset were all answered before is that answer again (its bytes and ETag kept, bounded).
 * The bytes are those of
 * `JSON.stringify({ sessions, total, limit, offset })`, each session rendered by the same function.
 * Requests that find the same unknown page at the same time share its one build (16 clients of one
 * user would otherwise each read and render the same rows).
 */
export class SessionListAnswers {
  readonly #answers = new Map<string, { version: string; json: string }>();
  readonly #pages = new Map<string, JsonText>();
  readonly #building = new Map<string, Promise<JsonText>>();

  constructor(
    private readonly db: Knex,
    private readonly sessionJson: (row: TelemetrySessionRow) => string,
    /** Bound on the rows kept; the oldest entry goes first. */
    private readonly maxEntries = 10_000,
    /** Bound on the pages kept (each up to 100 sessions, ~50 KB); the oldest entry goes first. */
    private readonly maxPages = 128,
  ) {}

  async page(filter: SessionListFilter): Promise<JsonText> {
    const page = await listTelemetrySessionVersions(this.db, filter);
    // The same sessions in the same versions, total, limit and offset: the same answer, bytes and ETag.
    const key = `${page.total} ${filter.limit} ${filter.offset} ${page.signature}`;
    const known = this.#pages.get(key);
    if (known !== undefined) return known;
    const building = this.#building.get(key);
    if (building !== undefined) return building;
    const build = this.#answer(filter, page).then(
      (answer) => {
        this.#building.delete(key);
        remember(this.#pages, key, answer, this.maxPages);
        return answer;
      },
      (error: unknown) => {
        this.#building.delete(key);
        throw error;
      },
    );
    this.#building.set(key, build);
    return build;
  }

  async #answer(filter: SessionListFilter, page: SessionPageVersions): Promise<JsonText> {
    const sessionsOfPage = pageSessions(page);
    const missing = sessionsOfPage.filter(({ id, version }) => this.#answers.get(id)?.version !== version).map(({ id }) => id);
    // Read just now, possibly a version newer than the page's: a row's latest committed state.
    const fresh = new Map<string, string>();
    for (const { row, version } of await telemetrySessionsByIds(this.db, missing)) {
      const json = this.sessionJson(row);
      fresh.set(row.id, json);
      this.#remember(row.id, version, json);
    }
    const sessions: string[] = [];
    for (const { id, version } of sessionsOfPage) {
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
    remember(this.#answers, id, { version, json }, this.maxEntries);
  }
}

function remember<V>(entries: Map<string, V>, key: string, value: V, maxEntries: number): void {
  entries.delete(key);
  if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
  entries.set(key, value);
}

/** `"total":…,"limit":…,"offset":…` as JSON.stringify writes them (numbers). */
function pageTail(total: number, filter: SessionListFilter): string {
  return `"total":${JSON.stringify(total)},"limit":${JSON.stringify(filter.limit)},"offset":${JSON.stringify(filter.offset)}`;
}
