import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';

export const ANALYST_USER = 'analyst';

/** The analyst's password: configured, or generated once into DATA_DIR/analyst-password (0600). */
export function resolveAnalystPassword(configured: string | undefined, dataDir: string): { password: string; file?: string } {
  if (configured) return { password: configured };
  const file = join(dataDir, 'analyst-password');
  if (existsSync(file)) return { password: readFileSync(file, 'utf8').trim(), file };
  const password = randomBytes(24).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  return { password, file };
}

/**
 * Credentials the way ClickHouse's HTTP interface takes them: basic auth, the X-ClickHouse-User /
 * X-ClickHouse-Key headers, or user/password URL parameters. No user means ClickHouse's `default`.
 */
export function presentedCredentials(req: IncomingMessage, url: URL): { user: string; password: string } {
  const header = req.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const headerUser = req.headers['x-clickhouse-user'];
  if (typeof headerUser === 'string') {
    const key = req.headers['x-clickhouse-key'];
    return { user: headerUser, password: typeof key === 'string' ? key : '' };
  }
  return { user: url.searchParams.get('user') ?? 'default', password: url.searchParams.get('password') ?? '' };
}

export function credentialsMatch(given: { user: string; password: string }, password: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  // Both compared in constant time; the digests make the lengths equal.
  const userOk = timingSafeEqual(digest(given.user), digest(ANALYST_USER));
  const passwordOk = timingSafeEqual(digest(given.password), digest(password));
  return userOk && passwordOk;
}
