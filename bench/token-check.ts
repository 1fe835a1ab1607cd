/**
 * CPU per token check: jsonwebtoken given the secret as a string (what the token service did before,
 * and what passport-jwt does when given a string) next to the token service, which builds its HMAC
 * KeyObject once. `npm run bench:token` (ts-node --transpile-only bench/token-check.ts).
 *
 * Environment: BENCH_TOKEN_CHECKS (default 20000).
 */
import jwt from 'jsonwebtoken';
import { JWT_ALGORITHM, TokenService } from '../src/api/shared/auth/token-service';

const CHECKS = Number(process.env.BENCH_TOKEN_CHECKS ?? 20_000);
const SECRET = 'bench-secret-that-is-long-enough-0123456789';

export interface TokenCheckCost {
  /** CPU microseconds per verification with the secret given as a string. */
  stringSecretUs: number;
  /** CPU microseconds per verification through the token service (KeyObject built once). */
  keyObjectUs: number;
}

/** CPU microseconds (user + system) per call of `work`, after a warm-up. */
function cpuMicrosPerCall(work: () => void, calls: number): number {
  for (let i = 0; i < Math.min(1000, calls); i++) work();
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

export function measureTokenCheck(checks = CHECKS): TokenCheckCost {
  const tokens = new TokenService({ secret: SECRET, accessTokenTtlSec: 3600, refreshTokenTtlSec: 86400 });
  const token = tokens.issue({ id: '00000000-0000-4000-8000-000000000001', username: 'bench' }).access_token;
  const stringSecretUs = cpuMicrosPerCall(() => {
    jwt.verify(token, SECRET, { algorithms: [JWT_ALGORITHM] });
  }, checks);
  const keyObjectUs = cpuMicrosPerCall(() => {
    tokens.verifyAccess(token);
  }, checks);
  return { stringSecretUs, keyObjectUs };
}

if (require.main === module) {
  const cost = measureTokenCheck();
  console.log(`token check, CPU per verification over ${CHECKS.toLocaleString('en')} checks:`);
  console.log(`  jsonwebtoken, secret as a string (before): ${cost.stringSecretUs.toFixed(1)} us`);
  console.log(`  token service, KeyObject built once (now): ${cost.keyObjectUs.toFixed(1)} us`);
}
