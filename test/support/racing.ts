import { z } from 'zod';
import type { Analytics } from '../../src/infrastructure/analytics/analytics';
import { http } from './test-system';

/** Helpers of the racing (LapXcel telemetry + analytics) suites. */

export interface Driver {
  id: string;
  username: string;
  token: string;
}

export async function registerDriver(url: string, prefix: string): Promise<Driver> {
  const username = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  const res = await http(url, 'POST', '/api/v1/auth/register', { body: { username, email: `${username}@x.io`, password: 'SecurePass123' } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: String((res.body.user as Record<string, unknown>).id), username, token: String(res.body.access_token) };
}

export async function createSession(url: string, driver: Driver, body: Record<string, unknown> = {}): Promise<string> {
  const res = await http(url, 'POST', '/api/v1/telemetry/sessions', {
    token: driver.token,
    body: { session_name: 'Practice', track_name: 'Monza', car_model: 'Ferrari 488 GT3', ...body },
  });
  if (res.status !== 201) throw new Error(`create session failed: ${res.status} ${JSON.stringify(res.body)}`);
  return String(res.body.id);
}

/** Uploads points in batches of `batchSize`; returns the summed points_created. */
export async function uploadInBatches(url: string, driver: Driver, sessionId: string, points: readonly unknown[], batchSize: number): Promise<number> {
  let created = 0;
  for (let start = 0; start < points.length; start += batchSize) {
    const res = await http(url, 'POST', `/api/v1/telemetry/sessions/${sessionId}/data`, {
      token: driver.token,
      body: { data_points: points.slice(start, start + batchSize), batch_id: `batch-${start}` },
    });
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
    created += Number(res.body.points_created);
  }
  return created;
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const Count = z.object({ n: z.coerce.number() });

/** Waits until ClickHouse holds `points` points and `laps` laps of the session. */
export async function analyticsCaughtUp(analytics: Analytics, sessionId: string, expected: { points: number; laps: number }, timeoutMs = 30_000): Promise<void> {
  await eventually(
    `analytics rows of session ${sessionId}`,
    async () => {
      const [points] = await analytics.query('SELECT count() AS n FROM {db}.telemetry_points WHERE session_id = {s:UUID}', { s: sessionId }, Count);
      const [laps] = await analytics.query('SELECT count() AS n FROM {db}.laps WHERE session_id = {s:UUID}', { s: sessionId }, Count);
      return points?.n === expected.points && laps?.n === expected.laps ? true : undefined;
    },
    timeoutMs,
  );
}
