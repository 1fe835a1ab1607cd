import { generateSession } from '../../test/fixtures/telemetry/trace-generator';

/** POSTs a JSON body to the app's `/api/v1` and returns the answer; a non-2xx answer throws with its body. */
export async function postJson(url: string, path: string, init: { token?: string; body: string }): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    body: init.body,
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Recorded-style points for one session at `hz`: enough generated laps, cut to `count`. */
export function sessionPoints(seed: number, count: number, hz: number): unknown[] {
  const lapsNeeded = Math.ceil(count / (hz * 75)) + 1;
  return generateSession({ seed, laps: lapsNeeded, hz, start: 'rolling' }).points.slice(0, count);
}
