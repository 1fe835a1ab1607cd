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
  it('accepts empty files, comments and plain specifiers with extras and markers', () => {
    expect(checkRequirements('')).toEqual({ ok: true, requirements: [] });
    expect(checkRequirements('# nothing\n\n   # still nothing\n')).toEqual({ ok: true, requirements: [] });
    expect(checkRequirements('numpy==1.26.4  # pinned\nrequests[socks] >= 2.0, < 3\ntorch>=2; python_version >= "3.10"\n')).toEqual({
      ok: true,
      requirements: ['numpy==1.26.4', 'requests[socks] >= 2.0, < 3', 'torch>=2; python_version >= "3.10"'],
    });
  });

  it('refuses pip options, URLs, direct references and local paths, naming the line', () => {
    const refused: [string, RegExp][] = [
      ['--index-url https://evil/simple', /line 1: pip options are not allowed/],
      ['numpy\n-e .', /line 2: pip options are not allowed/],
      ['-r other.txt', /pip options/],
      ['pkg @ https://evil/pkg.whl', /line 1: URLs and direct references/],
      ['https://evil/pkg.tar.gz', /URLs/],
      ['./local_pkg', /local paths/],
      ['../up', /local paths/],
      ['sub/dir', /local paths/],
      ['not a requirement!', /not a requirement specifier/],
    ];
    for (const [text, problem] of refused) {
      const result = checkRequirements(text);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problem).toMatch(problem);
    }
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
