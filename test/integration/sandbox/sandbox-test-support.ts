/** Shared setup for the sandbox suites: the detected engine, agent directories, leak checks. */
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeSandboxEngine, detectSandboxEngine } from '../../../src/infrastructure/sandbox/sandbox-engine';
import { UidPool } from '../../../src/infrastructure/sandbox/uid-pool';
import type { MatchAgent } from '../../../src/workers/matches/match-runner';
import { describeWithEngine } from '../../support/engines';

const REPO = resolve(__dirname, '..', '..', '..');
export const EXAMPLES_DIR = join(REPO, 'runtime', 'python', 'examples');
export const FIXTURES_DIR = join(REPO, 'test', 'fixtures', 'agents');

export const engine = detectSandboxEngine();
export const describeSandbox = describeWithEngine(
  'sandbox',
  engine.kind === 'bubblewrap',
  `bubblewrap not available (run deploy/sandbox/install.sh): ${describeSandboxEngine(engine)}`,
);

/**
 * Uids only these suites use, so leftover processes can be attributed to them: a range per jest
 * worker, so that a suite's leftover check does not see the sandboxes of a suite running beside it.
 */
export const testUidPool = new UidPool(310_000 + 1_000 * (Number(process.env.JEST_WORKER_ID ?? '1') - 1), 1_000);

export const trackingAgent: MatchAgent = { id: 'tracker', dir: join(EXAMPLES_DIR, 'tracking_agent') };
export const randomAgent: MatchAgent = { id: 'random', dir: join(EXAMPLES_DIR, 'random_agent') };
export const fixtureAgent = (name: string): MatchAgent => ({ id: name, dir: join(FIXTURES_DIR, name) });

const scratchDirs: string[] = [];

/** A world-readable copy of a fixture (the sandbox uid must read it) with extra files added. */
export function fixtureCopy(name: string, extraFiles: Record<string, string>): MatchAgent {
  const base = mkdtempSync(join(tmpdir(), 'arena-agent-'));
  chmodSync(base, 0o755);
  scratchDirs.push(base);
  const dir = join(base, name);
  cpSync(join(FIXTURES_DIR, name), dir, { recursive: true });
  for (const [file, content] of Object.entries(extraFiles)) writeFileSync(join(dir, file), content, { mode: 0o644 });
  return { id: name, dir };
}

export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'arena-scratch-'));
  chmodSync(dir, 0o755);
  scratchDirs.push(dir);
  return dir;
}

export function removeScratchDirs(): void {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Pids of live (non-zombie) processes running under one of the test pool's uids. */
export function processesOfTestUids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const zombie = /^State:\s+Z/m.test(status);
      if (testUidPool.contains(uid) && !zombie) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Waits (briefly) until no sandboxed test process is left; returns the survivors. */
export async function leftoverProcesses(waitMs = 3_000): Promise<number[]> {
  const until = Date.now() + waitMs;
  let left = processesOfTestUids();
  while (left.length > 0 && Date.now() < until) {
    await new Promise((done) => setTimeout(done, 50));
    left = processesOfTestUids();
  }
  return left;
}
