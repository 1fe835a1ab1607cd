import type { RequestHandler } from 'express';
import { UnavailableError } from '../../domain/shared/errors';
import type { Logger } from '../../infrastructure/logging/logger';

/**
 * Liveness (/healthz: the process answers) and readiness (/readyz: every dependency answers in
 * time). Orchestrators restart on the first and only stop routing traffic on the second, so a
 * slow database must fail readiness, never liveness.
 */

export interface ReadinessCheck {
  name: string;
  /** Rejects when not ready; resolves `'not_served_here'` for a dependency this process does not use. */
  check: () => Promise<void | 'not_served_here'>;
}

export type ReadinessResult = 'ok' | 'failed' | 'timed_out' | 'not_served_here';

export const DEFAULT_READINESS_TIMEOUT_MS = 2_000;

export const livenessHandler: RequestHandler = (_req, res) => {
  res.status(200).json({ status: 'ok' });
};

export function readinessHandler(checks: readonly ReadinessCheck[], timeoutMs: number, logger: Logger): RequestHandler {
  return async (_req, res) => {
    const results = await Promise.all(checks.map(async (check) => [check.name, await runCheck(check, timeoutMs, logger)] as const));
    const byName = Object.fromEntries(results);
    const failed = results.filter(([, result]) => result === 'failed' || result === 'timed_out').map(([name]) => name);
    if (failed.length > 0) {
      // Failure reasons stay in the log: they can hold hosts, users or connection strings.
      throw new UnavailableError(`Not ready: ${failed.join(', ')}`, { failed, checks: byName });
    }
    res.status(200).json({ status: 'ready', checks: byName });
  };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number, logger: Logger): Promise<ReadinessResult> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ReadinessResult>((resolve) => {
    timer = setTimeout(() => resolve('timed_out'), timeoutMs);
  });
  // Promise.resolve().then: a check that throws synchronously still counts as a failure, not a crash.
  const checked = Promise.resolve()
    .then(() => check.check())
    .then(
    (note): ReadinessResult => note ?? 'ok',
    (error: unknown): ReadinessResult => {
      logger.warn({ err: error, check: check.name }, 'readiness check failed');
      return 'failed';
    },
  );
  try {
    const result = await Promise.race([checked, timedOut]);
    if (result === 'timed_out') logger.warn({ check: check.name, timeoutMs }, 'readiness check timed out');
    return result;
  } finally {
    clearTimeout(timer);
  }
}
