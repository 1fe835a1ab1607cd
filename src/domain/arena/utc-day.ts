/** Daily quotas count per UTC calendar day; `now` always arrives on the command. */
export const utcDay = (iso: string): string => new Date(iso).toISOString().slice(0, 10);

export function startOfUtcDay(iso: string): string {
  return `${utcDay(iso)}T00:00:00.000Z`;
}

export function startOfNextUtcDay(iso: string): string {
  return new Date(Date.parse(startOfUtcDay(iso)) + 24 * 3600 * 1000).toISOString();
}
