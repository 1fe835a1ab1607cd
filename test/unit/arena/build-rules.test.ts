import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactKeyFor, sha256Hex } from '../../../src/infrastructure/artifacts/artifact-store';
import { LocalArtifactStore } from '../../../src/infrastructure/artifacts/local-artifact-store';
import { LocalReplayStore } from '../../../src/infrastructure/artifacts/replay-store';
import { NotFoundError } from '../../../src/domain/shared/errors';
import { BuildLog } from '../../../src/workers/builds/build-log';
import { checkRequirements } from '../../../src/workers/builds/requirements';

describe('requirements.txt rules', () => {
  it('accepts empty files, comments and plain specifiers with extras and markers, re-written canonically', () => {
    expect(checkRequirements('')).toEqual({ ok: true, requirements: [] });
    expect(checkRequirements('# nothing\n\n   # still nothing\n')).toEqual({ ok: true, requirements: [] });
    expect(
      checkRequirements(
        'numpy==1.26.4  # pinned\nrequests[socks] >= 2.0, < 3\ntorch>=2; python_version >= "3.10"\n' +
          "six\nzope.interface (>=5,!=5.1)\nfoo[a, b]~=1.4.5\nbar===1.0+local.7\nbaz==1.*\n" +
          "qux; sys_platform == 'linux' and (python_version < \"3.13\" or platform_machine not in \"x86_64 aarch64\")\n",
      ),
    ).toEqual({
      ok: true,
      requirements: [
        'numpy==1.26.4',
        'requests[socks]>=2.0,<3',
        'torch>=2; python_version >= "3.10"',
        'six',
        'zope.interface>=5,!=5.1',
        'foo[a,b]~=1.4.5',
        'bar===1.0+local.7',
        'baz==1.*',
        'qux; sys_platform == "linux" and (python_version < "3.13" or platform_machine not in "x86_64 aarch64")',
      ],
    });
  });

  /** Issue 8, defect 2: per-requirement options passed the old check and made pip build sdists on the host. */
  it('refuses every form that is not name, extras, specifiers and a marker, naming the line and the rule', () => {
    const refused: [string, string][] = [
      ['numpy==2.0 --global-option=x', 'pip options are not allowed'],
      ['numpy==2.0; python_version >= "3.8" --global-option=x', 'pip options are not allowed'],
      ['numpy; python_version>"3" --install-option="--prefix=/tmp"', 'pip options are not allowed'],
      ['numpy --hash=sha256:0123', 'pip options are not allowed'],
      ['numpy==2.0 --config-settings=editable_mode=compat', 'pip options are not allowed'],
      ['--index-url https://evil/simple', 'pip options are not allowed'],
      ['--extra-index-url http://evil/simple', 'pip options are not allowed'],
      ['--no-binary=:all:', 'pip options are not allowed'],
      ['--find-links /tmp/evil', 'pip options are not allowed'],
      ['-f https://evil/', 'pip options are not allowed'],
      ['-i https://evil/simple', 'pip options are not allowed'],
      ['--pre', 'pip options are not allowed'],
      ['-r other.txt', 'requirement and constraint files (-r, -c) are not allowed'],
      ['--requirement other.txt', 'requirement and constraint files (-r, -c) are not allowed'],
      ['-c constraints.txt', 'requirement and constraint files (-r, -c) are not allowed'],
      ['-e .', 'editable installs (-e) are not allowed'],
      ['-e git+https://evil/repo#egg=x', 'editable installs (-e) are not allowed'],
      ['--editable ./pkg', 'editable installs (-e) are not allowed'],
      ['pkg @ https://evil/pkg.whl', 'URLs and direct references are not allowed'],
      ['pkg@file:///tmp/pkg', 'URLs and direct references are not allowed'],
      ['https://evil/pkg.tar.gz', 'URLs and direct references are not allowed'],
      ['git+https://evil/repo', 'URLs and direct references are not allowed'],
      ['file:pkg', 'URLs and direct references are not allowed'],
      ['./local_pkg', 'local paths are not allowed'],
      ['../up', 'local paths are not allowed'],
      ['sub/dir', 'local paths are not allowed'],
      ['/abs/pkg.whl', 'local paths are not allowed'],
      ['~/pkg', 'local paths are not allowed'],
      ['numpy==1.0 \\', 'line continuations are not allowed'],
      ['not a requirement!', 'not a requirement'],
      ['numpy==', 'not a requirement'],
      ['numpy; os_name == ', 'not a requirement'],
      ['numpy; evil_var == "x"', 'not a requirement'],
      ['numpy; python_version == "3" ; x', 'not a requirement'],
      ['numpy[', 'not a requirement'],
      ['numpy $(id)', 'not a requirement'],
      ['numpy==1.0`id`', 'not a requirement'],
      ['nump\u0000y', 'not a requirement'],
    ];
    for (const [text, rule] of refused) {
      const result = checkRequirements(`six\n${text}\n`);
      expect({ text, ok: result.ok }).toEqual({ text, ok: false });
      if (!result.ok) {
        expect({ text, problems: result.problems }).toEqual({ text, problems: [{ line: 2, rule: expect.stringContaining(rule) as string, text: text.trim() }] });
        expect(result.problem).toBe(`requirements.txt line 2: ${result.problems[0]!.rule} ("${text.trim()}")`);
      }
    }
  });

  it('reports every bad line, not only the first', () => {
    const result = checkRequirements('-r a.txt\nsix\nnumpy --global-option=x\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.line)).toEqual([1, 3]);
  });
});

describe('build log', () => {
  it('keeps the end of a long log and says how much it dropped', () => {
    const log = new BuildLog(100);
    log.step('one');
    log.append('x'.repeat(150));
    const text = log.toString();
    expect(text).toMatch(/^\[\.\.\. \d+ earlier characters of the log dropped \.\.\.\]\n/);
    expect(text.endsWith('x\n')).toBe(true);
    expect(text.length).toBeLessThan(160);
  });
});

describe('local artifact and replay stores', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'arena-store-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores archives by content: same bytes, same key, stored once', async () => {
    const store = new LocalArtifactStore(root);
    const bytes = Buffer.from('zip bytes');
    const first = await store.put(bytes);
    expect(first).toEqual({ key: artifactKeyFor(sha256Hex(bytes)), sha256: sha256Hex(bytes), sizeBytes: bytes.length });
    expect(await store.put(Buffer.from('zip bytes'))).toEqual(first);
    expect(await store.get(first.key)).toEqual(bytes);
    expect(store.localPath(first.key)).toBe(join(root, 'sha256', first.sha256.slice(0, 2), first.sha256));
    await expect(store.get(artifactKeyFor('0'.repeat(64)))).rejects.toThrow(NotFoundError);
    await expect(store.get('../../etc/passwd')).rejects.toThrow(NotFoundError);
    expect(store.localPath('sha256/../../x')).toBeNull();
  });

  it('writes replays under the match id and refuses anything else as a name', async () => {
    const store = new LocalReplayStore(root);
    const matchId = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(await store.save(matchId, { json: '{}', html: '<html></html>' })).toEqual({ jsonKey: `${matchId}.json`, htmlKey: `${matchId}.html` });
    expect((await store.read(matchId, 'html'))?.toString()).toBe('<html></html>');
    expect(await store.read('../../etc/passwd', 'json')).toBeNull();
    await expect(store.save('../x', { json: '', html: '' })).rejects.toThrow(/not a match id/);
  });
});
