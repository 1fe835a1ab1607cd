import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * JWT_SECRET when set. Otherwise, outside production, a random secret kept in the data dir (mode
 * 0600) so tokens survive a restart of the embedded setup. Production must set JWT_SECRET.
 */
export function resolveJwtSecret(options: { configured?: string; dataDir: string; production: boolean }): string {
  if (options.configured) return options.configured;
  if (options.production) throw new Error('JWT_SECRET must be set when NODE_ENV=production');
  const file = join(options.dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
