import type { z } from 'zod';
import { UnavailableError } from '../../domain/shared/errors';
import type { Analytics } from './analytics';

/** The one reason a process does not serve analytics: embedded chDB belongs to another process. */
export const ANALYTICS_NOT_SERVED_MESSAGE =
  'Analytics are not served by this process: the embedded analytics engine (chDB) belongs to the process that runs ' +
  'the analytics projections. Set CLICKHOUSE_URL to a ClickHouse server (or to that process) to serve them here.';

/**
 * The Analytics port of a process that does not own the embedded engine. Every call fails with a
 * 503 (the contract's error body, code SERVICE_UNAVAILABLE), never with a 500; readiness reports
 * analytics as "not served here" instead of failing.
 */
export class AnalyticsNotServedHere implements Analytics {
  constructor(readonly database: string) {}

  ensureSchema(): Promise<void> {
    return Promise.reject(this.failure());
  }
  insert(): Promise<void> {
    return Promise.reject(this.failure());
  }
  insertCompact(): Promise<void> {
    return Promise.reject(this.failure());
  }
  insertColumns(): Promise<void> {
    return Promise.reject(this.failure());
  }
  query<Row>(_sql: string, _params: Readonly<Record<string, unknown>>, _rowSchema: z.ZodType<Row>): Promise<Row[]> {
    return Promise.reject(this.failure());
  }
  command(): Promise<void> {
    return Promise.reject(this.failure());
  }
  ping(): Promise<boolean> {
    return Promise.resolve(false);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }

  private failure(): UnavailableError {
    return new UnavailableError(ANALYTICS_NOT_SERVED_MESSAGE, { reason: 'analytics_not_served_here' });
  }
}

export function isAnalyticsServedHere(analytics: Analytics): boolean {
  return !(analytics instanceof AnalyticsNotServedHere);
}
