/**
 * Suites that need an engine call `engineAvailable`. Absent engine: the suite prints
 * `SKIPPED: <why>` and its tests are skipped, unless REQUIRE_ENGINES names the engine
 * (comma-separated, or `all`), as CI sets it: then the absence is a failure.
 */
export type EngineName = 'kafka' | 'postgres' | 'chdb' | 'esdb' | 'python' | 'chromium' | 'sandbox' | 'schemathesis';

export function engineRequired(engine: EngineName): boolean {
  const required = (process.env.REQUIRE_ENGINES ?? '').split(',').map((s) => s.trim().toLowerCase());
  return required.includes('all') ? engine !== 'esdb' : required.includes(engine);
}

/** Returns true when the suite should run. Call at module top level, then pick `describe` or `describe.skip`. */
export function engineAvailable(engine: EngineName, present: boolean, why: string): boolean {
  if (present) return true;
  if (engineRequired(engine)) {
    throw new Error(`REQUIRED ENGINE MISSING (${engine}): ${why}`);
  }
  // Straight to stdout: jest drops console output of suites whose tests are all skipped.
  process.stdout.write(`SKIPPED: ${why}\n`);
  return false;
}

/** `describe` when the engine is there, `describe.skip` otherwise (after printing SKIPPED). */
export function describeWithEngine(engine: EngineName, present: boolean, why: string): jest.Describe {
  return engineAvailable(engine, present, why) ? describe : describe.skip;
}
