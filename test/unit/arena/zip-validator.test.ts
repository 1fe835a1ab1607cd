import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../../../src/domain/shared/errors';
import { extractValidatedZip } from '../../../src/infrastructure/submissions/zip-extractor';
import { validateZip, type ZipLimitsInput } from '../../../src/infrastructure/submissions/zip-validator';
import { AGENT_FILES, buildZip, type ZipFixtureEntry } from './zip-fixtures';

function rejection(archive: Buffer, limits?: ZipLimitsInput): ValidationError {
  try {
    validateZip(archive, limits);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected the archive to be rejected');
}

function expectProblem(entries: ZipFixtureEntry[] | Buffer, problem: string, message: RegExp, limits?: ZipLimitsInput): void {
  const error = rejection(Buffer.isBuffer(entries) ? entries : buildZip(entries), limits);
  expect(error.details).toMatchObject({ problem });
  expect(error.message).toMatch(message);
}

describe('zip validator: good archives', () => {
  it('lists the entries of an archive with agent.py and requirements.txt at its root', () => {
    const validated = validateZip(buildZip([...AGENT_FILES, { name: 'lib/' }, { name: 'lib/model.txt', content: 'weights' }]));
    expect(validated.rootFolder).toBeNull();
    expect(validated.entries.map((entry) => [entry.path, entry.kind])).toEqual([
      ['agent.py', 'file'],
      ['requirements.txt', 'file'],
      ['lib', 'directory'],
      ['lib/model.txt', 'file'],
    ]);
  });

  it('accepts one top-level folder (zipping a folder) and ignores __MACOSX', () => {
    const validated = validateZip(
      buildZip([
        { name: 'my_agent/' },
        ...AGENT_FILES.map((file) => ({ ...file, name: `my_agent/${file.name}` })),
        { name: '__MACOSX/my_agent/._agent.py', content: 'resource fork' },
      ]),
    );
    expect(validated.rootFolder).toBe('my_agent');
    expect(validated.entries.map((entry) => entry.path)).toEqual(['agent.py', 'requirements.txt']);
  });

  it('extracts the files under a new directory, stripping the top-level folder', async () => {
    const base = mkdtempSync(join(tmpdir(), 'zip-test-'));
    try {
      const archive = buildZip([...AGENT_FILES.map((file) => ({ ...file, name: `a/${file.name}` })), { name: 'a/data/x.bin', content: randomBytes(5000), method: 'stored' }]);
      await extractValidatedZip(archive, join(base, 'out'));
      expect(readdirSync(join(base, 'out')).sort()).toEqual(['agent.py', 'data', 'requirements.txt']);
      expect(readFileSync(join(base, 'out', 'agent.py'), 'utf8')).toContain('class Agent');
      await expect(extractValidatedZip(archive, join(base, 'out'))).rejects.toThrow(/EEXIST/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('zip validator: hostile archives', () => {
  it('refuses path traversal', () => {
    expectProblem([...AGENT_FILES, { name: '../evil.py', content: 'x' }], 'path_traversal', /"\.\.\/evil\.py" contains a "\.\." path segment/);
    expectProblem([...AGENT_FILES, { name: 'lib/../../evil.py', content: 'x' }], 'path_traversal', /\.\./);
  });

  it('refuses absolute paths, including drive letters', () => {
    expectProblem([...AGENT_FILES, { name: '/etc/cron.d/evil', content: 'x' }], 'absolute_path', /absolute path/);
    expectProblem([...AGENT_FILES, { name: 'C:/evil', content: 'x' }], 'absolute_path', /absolute path/);
  });

  it('refuses backslashes, which some extractors treat as separators', () => {
    expectProblem([...AGENT_FILES, { name: '..\\evil.py', content: 'x' }], 'backslash_in_name', /backslash/);
  });

  it('refuses symlinks and special files', () => {
    expectProblem([...AGENT_FILES, { name: 'passwd', content: '/etc/passwd', unixMode: 0o120777 }], 'symlink', /"passwd" is a symbolic link/);
    expectProblem([...AGENT_FILES, { name: 'pipe', unixMode: 0o010644 }], 'special_file', /not a regular file/);
  });

  it('refuses encrypted entries', () => {
    expectProblem([...AGENT_FILES, { name: 'secret.py', content: 'x', flags: 0x1 }], 'encrypted_entry', /encrypted/);
  });

  it('refuses duplicate names, also differing only by case, and a file used as a folder', () => {
    expectProblem([...AGENT_FILES, { name: 'agent.py', content: 'other' }], 'duplicate_entry', /more than once/);
    expectProblem([...AGENT_FILES, { name: 'Agent.py', content: 'other' }], 'duplicate_entry', /more than once/);
    expectProblem([...AGENT_FILES, { name: 'lib', content: 'x' }, { name: 'lib/x.py', content: 'y' }], 'duplicate_entry', /under a path that is a file/);
  });

  it('refuses a zip bomb by its compression ratio (60 MiB of zeros)', () => {
    const bomb = buildZip([...AGENT_FILES, { name: 'zeros.bin', content: Buffer.alloc(60 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(200 * 1024);
    expectProblem(bomb, 'compression_ratio', /"zeros\.bin" expands \d+:1; the limit is 100:1/);
  });

  it('refuses an archive that expands past the total budget even when each ratio is allowed', () => {
    const chunks = Array.from({ length: 6 }, (_, index) => ({ name: `part${index}.bin`, content: randomBytes(1024 * 1024), method: 'stored' as const }));
    expectProblem([...AGENT_FILES, ...chunks], 'uncompressed_size_limit', /expands to more than 5242880 bytes/, { maxTotalUncompressedBytes: 5 * 1024 * 1024 });
  });

  it('refuses too many entries', () => {
    const many = Array.from({ length: 201 }, (_, index) => ({ name: `f${index}.py`, content: '' }));
    expectProblem([...AGENT_FILES, ...many], 'too_many_entries', /203 entries; the limit is 200/);
  });

  it('refuses an archive over the size limit', () => {
    expectProblem(buildZip([...AGENT_FILES, { name: 'noise', content: randomBytes(4000) }]), 'archive_too_large', /the limit is 2000/, { maxArchiveBytes: 2000 });
  });

  it('names the missing required files', () => {
    expectProblem([AGENT_FILES[0]!], 'missing_required_file', /missing requirements\.txt/);
    expectProblem([{ name: 'readme.md', content: 'hi' }], 'missing_required_file', /missing agent\.py and requirements\.txt/);
    expectProblem(AGENT_FILES.map((file) => ({ ...file, name: `a/b/${file.name}` })), 'missing_required_file', /missing agent\.py/);
  });

  it('refuses lying size headers: more data than declared, less data than declared, a wrong CRC', () => {
    const bigger = { name: 'model.txt', content: 'a'.repeat(20_000) + randomBytes(2000).toString('hex'), declaredUncompressedBytes: 100 };
    expectProblem([...AGENT_FILES, bigger], 'size_mismatch', /"model\.txt" inflates to more than the 100 bytes/);
    expectProblem([...AGENT_FILES, { name: 'm.txt', content: 'short', declaredUncompressedBytes: 5000 }], 'size_mismatch', /declares 5000 bytes but holds 5/);
    expectProblem([...AGENT_FILES, { name: 'm.txt', content: 'hello', declaredCrc32: 1234 }], 'crc_mismatch', /CRC-32/);
  });

  it('enforces the real inflated size while extracting and leaves nothing behind', async () => {
    const base = mkdtempSync(join(tmpdir(), 'zip-test-'));
    try {
      const liar = buildZip([...AGENT_FILES, { name: 'zeros.bin', content: Buffer.alloc(30 * 1024 * 1024), declaredUncompressedBytes: 1000 }]);
      await expect(extractValidatedZip(liar, join(base, 'out'))).rejects.toMatchObject({ details: { problem: 'size_mismatch' } });
      expect(existsSync(join(base, 'out'))).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('refuses an archive whose local header disagrees with the central directory', () => {
    expectProblem([...AGENT_FILES, { name: 'harmless.py', localName: '../evil.py', content: 'x' }], 'corrupt_zip', /local header disagrees/);
  });

  it('refuses things that are not ZIP archives', () => {
    expectProblem(Buffer.alloc(0), 'not_a_zip', /too short/);
    expectProblem(Buffer.from('this is just text, not an archive at all'), 'not_a_zip', /not a ZIP file/);
    expectProblem(randomBytes(5000), 'not_a_zip', /not a ZIP file/);
    const valid = buildZip(AGENT_FILES);
    expectProblem(valid.subarray(0, valid.length - 10), 'not_a_zip', /truncated/);
    expectProblem(Buffer.concat([valid, Buffer.from('trailing junk')]), 'not_a_zip', /not a ZIP file/);
  });
});
