import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildAgent } from '../../../src/workers/builds/agent-builder';
import { buildZip } from '../../unit/arena/zip-fixtures';
import { describeSandbox, engine, leftoverProcesses, removeScratchDirs, scratchDir, testUidPool } from '../sandbox/sandbox-test-support';

/**
 * Issue 8, defect 2: a requirements.txt could make pip build an sdist (run its setup.py) on the
 * host. Against a package index of our own on 127.0.0.1 holding wheels and one sdist whose setup.py
 * leaves a marker file: no build, whatever it asks for, leaves the marker; the only command that
 * runs on the host is the wheel-only download; wheels (with their dependencies) install in the
 * sandbox and the sandboxed agent imports them.
 */

const wheel = (name: string, version: string, requires: string[] = []) => {
  const module = name.replace(/-/g, '_');
  const distInfo = `${module}-${version}.dist-info`;
  const files: { name: string; content: string }[] = [
    { name: `${module}/__init__.py`, content: `VALUE = ${JSON.stringify(`${name} ${version}`)}\n` },
    { name: `${distInfo}/METADATA`, content: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n${requires.map((r) => `Requires-Dist: ${r}\n`).join('')}` },
    { name: `${distInfo}/WHEEL`, content: 'Wheel-Version: 1.0\nGenerator: arena-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n' },
  ];
  const record = [...files.map((f) => `${f.name},,`), `${distInfo}/RECORD,,`].join('\n') + '\n';
  return { file: `${module}-${version}-py3-none-any.whl`, content: buildZip([...files, { name: `${distInfo}/RECORD`, content: record }]) };
};

let index: Server;
let indexUrl: string;
let marker: string;
let packagesDir: string;

beforeAll(async () => {
  packagesDir = scratchDir();
  marker = join(scratchDir(), 'sdist-setup-ran');
  const files: Record<string, { file: string; content: Buffer }[]> = {
    'arena-dep': [wheel('arena-dep', '1.0')],
    'arena-good': [wheel('arena-good', '1.0', ['arena-dep'])],
    'arena-needs-evil': [wheel('arena-needs-evil', '1.0', ['arena-evil'])],
    'arena-evil': [],
  };
  // The sdist: building it (setup.py) writes the marker, wherever that runs with write access to it.
  const sdistRoot = join(packagesDir, 'arena_evil-1.0');
  mkdirSync(sdistRoot, { recursive: true });
  writeFileSync(join(sdistRoot, 'setup.py'), `open(${JSON.stringify(marker)}, "w").write("built")\nfrom setuptools import setup\nsetup(name="arena-evil", version="1.0")\n`);
  writeFileSync(join(sdistRoot, 'PKG-INFO'), 'Metadata-Version: 2.1\nName: arena-evil\nVersion: 1.0\n');
  const tar = spawnSync('tar', ['czf', join(packagesDir, 'arena_evil-1.0.tar.gz'), '-C', packagesDir, 'arena_evil-1.0']);
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
  files['arena-evil']!.push({ file: 'arena_evil-1.0.tar.gz', content: readFileSync(join(packagesDir, 'arena_evil-1.0.tar.gz')) });

  index = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const project = /^\/simple\/([^/]+)\/$/.exec(path);
    if (project && files[project[1]!]) {
      const links = files[project[1]!]!.map((f) => `<a href="/files/${f.file}">${f.file}</a>`).join('\n');
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body>\n${links}\n</body></html>`);
      return;
    }
    const download = /^\/files\/(.+)$/.exec(path);
    const found = download ? Object.values(files).flat().find((f) => f.file === download[1]) : undefined;
    if (found) response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(found.content);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => index.listen(0, '127.0.0.1', resolve));
  indexUrl = `http://127.0.0.1:${(index.address() as AddressInfo).port}/simple/`;
});

afterAll(async () => {
  await new Promise((resolve) => index?.close(resolve));
});

const agentPy = (imports: string[]) =>
  `${imports.map((m) => `import ${m}`).join('\n')}\n\nclass Agent:\n    def __init__(self, o, a):\n        pass\n\n    def act(self, observation):\n        return 0\n`;

describeSandbox('builds: nothing but the wheel download runs on the host', () => {
  afterEach(async () => {
    expect(await leftoverProcesses()).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });
  afterAll(() => removeScratchDirs());

  const build = (submissionId: string, imports: string[], requirements: string) => {
    const dataDir = scratchDir();
    const archive = buildZip([
      { name: 'agent.py', content: agentPy(imports) },
      { name: 'requirements.txt', content: requirements },
    ]);
    return buildAgent({ submissionId, archive, environmentId: 'pong', buildsDir: join(dataDir, 'builds'), dataDir, timeoutMs: 180_000, engine, uidPool: testUidPool, packageIndexUrl: indexUrl });
  };

  const hostCommands = (outcome: { commands: { where: string; argv: string[] }[] }) => outcome.commands.filter((c) => c.where === 'host');
  const expectOnlyWheelDownloadsOnHost = (outcome: { commands: { where: string; argv: string[] }[] }) => {
    for (const command of hostCommands(outcome)) {
      expect(command.argv.slice(1, 6)).toEqual(['-m', 'pip', '--isolated', 'download', '--only-binary=:all:']);
    }
  };

  it('installs wheels and their dependencies in the sandbox, from the downloaded files only', async () => {
    const outcome = await build('s-good', ['arena_good', 'arena_dep'], 'arena-good==1.0\n');
    if (!outcome.ok) throw new Error(`${outcome.reason}\n${outcome.log}`);
    expect(outcome.commands.map((c) => `${c.where} ${c.argv.slice(1, 5).join(' ')}`)).toEqual([
      expect.stringMatching(/^sandbox -m venv /),
      'host -m pip --isolated download',
      expect.stringMatching(/^sandbox -m pip install --no-index/),
      expect.stringMatching(/^sandbox arena_runner\.py/),
    ]);
    expectOnlyWheelDownloadsOnHost(outcome);
    expect(outcome.log).toMatch(/Successfully installed arena-dep-1\.0 arena-good-1\.0/);
    const sitePackages = join(outcome.pythonExecutable, '..', '..', 'lib');
    expect(readdirSync(sitePackages).length).toBeGreaterThan(0);
  }, 240_000);

  it('never builds an sdist: asked directly, or as a wheel\'s dependency, the download finds no wheel and the build fails', async () => {
    for (const [id, requirements] of [['s-evil', 'arena-evil==1.0\n'], ['s-needs-evil', 'arena-needs-evil==1.0\n']] as const) {
      const outcome = await build(id, [], requirements);
      expect({ id, ok: outcome.ok }).toEqual({ id, ok: false });
      if (!outcome.ok) expect(outcome.reason).toBe('download the requirements as wheels failed');
      expect(outcome.log).toMatch(/No matching distribution found for arena-evil/);
      expectOnlyWheelDownloadsOnHost(outcome);
      expect(outcome.commands.filter((c) => c.argv.includes('install'))).toEqual([]);
    }
  }, 240_000);

  it('refuses per-requirement options (also after a marker) before any command runs', async () => {
    for (const requirements of ['arena-evil==1.0 --global-option=x\n', 'arena-good==1.0\narena-evil; python_version >= "3" --global-option=x\n', '--no-binary=:all:\narena-evil\n']) {
      const outcome = await build('s-options', [], requirements);
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.reason).toMatch(/^requirements\.txt line \d: pip options are not allowed/);
      expect(outcome.log).toMatch(/requirements\.txt line \d: pip options are not allowed/);
      expect(outcome.commands).toEqual([]);
    }
  });
});
