/**
 * Validates an uploaded agent ZIP in memory, before anything touches the disk. Structure, names
 * and declared sizes are checked first (cheap), then every entry is actually inflated with a hard
 * output cap and its size and CRC compared with what the archive claims: declared sizes are
 * never trusted. Any problem is a ValidationError (400) whose message names it.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { locateEntryData, readZipDirectory, zipProblem, type CentralDirectoryRecord } from './zip-format';

export const zipLimitsSchema = z.object({
  maxArchiveBytes: z.number().int().positive().default(10 * 1024 * 1024),
  maxEntries: z.number().int().positive().default(200),
  maxTotalUncompressedBytes: z.number().int().positive().default(50 * 1024 * 1024),
  /** Uncompressed:compressed bytes of one entry (zip bombs compress far better than code). */
  maxCompressionRatio: z.number().positive().default(100),
  /** Entries smaller than this are not ratio-checked: a small file of blanks compresses very well. */
  ratioCheckMinBytes: z.number().int().nonnegative().default(64 * 1024),
});
export type ZipLimits = z.infer<typeof zipLimitsSchema>;
export type ZipLimitsInput = z.input<typeof zipLimitsSchema>;

export const REQUIRED_AGENT_FILES = ['agent.py', 'requirements.txt'] as const;
/** Folders macOS's archiver adds; validated like everything else, then ignored. */
const IGNORED_TOP_FOLDER = '__MACOSX';

export interface ValidatedZipEntry {
  /** Path relative to the agent's root folder: what extraction writes. */
  readonly path: string;
  /** Path inside the archive. */
  readonly archivePath: string;
  readonly kind: 'file' | 'directory';
  readonly method: 'stored' | 'deflate';
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly crc32: number;
  /** Where the entry's compressed bytes are in the archive. */
  readonly dataStart: number;
  readonly dataEnd: number;
}

export interface ValidatedZip {
  readonly entries: ValidatedZipEntry[];
  /** The single top-level folder the agent lives in, or null when agent.py is at the root. */
  readonly rootFolder: string | null;
  readonly totalUncompressedBytes: number;
}

const UNIX_HOSTS = new Set([3, 19]); // Unix, OS X: external attributes carry st_mode in the high 16 bits
const FILE_TYPE_MASK = 0o170000;
const REGULAR_FILE = 0o100000;
const DIRECTORY = 0o040000;
const SYMLINK = 0o120000;
const FLAG_ENCRYPTED = 0x1;
const FLAG_UTF8_NAME = 0x800;
const METHODS: Record<number, 'stored' | 'deflate'> = { 0: 'stored', 8: 'deflate' };
const MAX_PATH_CHARS = 512;

function decodeName(record: CentralDirectoryRecord): string {
  const allAscii = record.nameBytes.every((byte) => byte < 0x80);
  if (!allAscii && (record.flags & FLAG_UTF8_NAME) === 0) {
    throw zipProblem('invalid_name', `entry ${record.index} has a non-ASCII name without the UTF-8 flag`, { entryIndex: record.index });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(record.nameBytes);
  } catch {
    throw zipProblem('invalid_name', `entry ${record.index} has a name that is not valid UTF-8`, { entryIndex: record.index });
  }
}

/** Checks one archive path; returns it without a trailing slash. */
function checkPath(name: string): string {
  const entry = { entry: name };
  if (name.length === 0) throw zipProblem('invalid_name', 'an entry has an empty name');
  if (name.length > MAX_PATH_CHARS) throw zipProblem('invalid_name', `entry name longer than ${MAX_PATH_CHARS} characters`, entry);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw zipProblem('invalid_name', `entry "${JSON.stringify(name)}" has control characters in its name`, entry);
  if (name.includes('\\')) throw zipProblem('backslash_in_name', `entry "${name}" has a backslash in its name`, entry);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw zipProblem('absolute_path', `entry "${name}" has an absolute path`, entry);
  const path = name.endsWith('/') ? name.slice(0, -1) : name;
  const segments = path.split('/');
  if (segments.includes('..')) throw zipProblem('path_traversal', `entry "${name}" contains a ".." path segment`, entry);
  if (segments.some((segment) => segment === '' || segment === '.')) {
    throw zipProblem('invalid_name', `entry "${name}" has an empty or "." path segment`, entry);
  }
  return path;
}

function checkEntryType(record: CentralDirectoryRecord, name: string, isDirectory: boolean): void {
  if (!UNIX_HOSTS.has(record.versionMadeBy >> 8)) return;
  const fileType = (record.externalAttributes >>> 16) & FILE_TYPE_MASK;
  if (fileType === 0) return; // archivers that set no mode
  if (fileType === SYMLINK) throw zipProblem('symlink', `entry "${name}" is a symbolic link`, { entry: name });
  const expected = isDirectory ? DIRECTORY : REGULAR_FILE;
  if (fileType !== expected) {
    throw zipProblem('special_file', `entry "${name}" is not a regular file or directory (mode ${fileType.toString(8)})`, { entry: name });
  }
}

function checkNoClashes(paths: { path: string; kind: 'file' | 'directory' }[]): void {
  // Compared case-insensitively: on a case-insensitive filesystem "Agent.py" overwrites "agent.py".
  const seen = new Set<string>();
  const files = new Set<string>();
  for (const { path, kind } of paths) {
    const key = path.toLowerCase();
    if (seen.has(key)) throw zipProblem('duplicate_entry', `entry "${path}" appears more than once`, { entry: path });
    seen.add(key);
    if (kind === 'file') files.add(key);
  }
  for (const { path } of paths) {
    const segments = path.toLowerCase().split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      if (files.has(segments.slice(0, depth).join('/'))) {
        throw zipProblem('duplicate_entry', `entry "${path}" lies under a path that is a file`, { entry: path });
      }
    }
  }
}

/** Inflates one entry with a hard cap at its declared size; checks size and CRC. */
export function inflateEntry(archive: Buffer, entry: ValidatedZipEntry): Buffer {
  const compressed = archive.subarray(entry.dataStart, entry.dataEnd);
  let content: Buffer;
  if (entry.method === 'stored') {
    content = compressed;
  } else {
    try {
      content = inflateRawSync(compressed, { maxOutputLength: Math.max(1, entry.uncompressedBytes) });
    } catch (error) {
      // Checked by code, not `instanceof RangeError`: the error may come from another realm.
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ERR_BUFFER_TOO_LARGE') {
        throw zipProblem('size_mismatch', `entry "${entry.archivePath}" inflates to more than the ${entry.uncompressedBytes} bytes it declares`, { entry: entry.archivePath });
      }
      throw zipProblem('corrupt_zip', `entry "${entry.archivePath}" has corrupt compressed data`, { entry: entry.archivePath });
    }
  }
  if (content.length !== entry.uncompressedBytes) {
    throw zipProblem('size_mismatch', `entry "${entry.archivePath}" declares ${entry.uncompressedBytes} bytes but holds ${content.length}`, { entry: entry.archivePath });
  }
  if (crc32(content) >>> 0 !== entry.crc32) {
    throw zipProblem('crc_mismatch', `entry "${entry.archivePath}" fails its CRC-32 check`, { entry: entry.archivePath });
  }
  return content;
}

/** Where the agent lives: the root, or the one top-level folder every entry is under. */
function findRootFolder(paths: string[]): string | null {
  if (paths.includes('agent.py')) return null;
  const tops = new Set(paths.map((path) => path.split('/')[0]!));
  if (tops.size === 1) {
    const [top] = [...tops];
    if (paths.some((path) => path.startsWith(`${top}/`))) return top!;
  }
  return null;
}

/** Structural checks only: names, types, flags, declared sizes, header agreement, no overlap. */
export function inspectZip(archive: Buffer, limitsInput: ZipLimitsInput = {}): ValidatedZip {
  const limits = zipLimitsSchema.parse(limitsInput);
  if (archive.length > limits.maxArchiveBytes) {
    throw zipProblem('archive_too_large', `the archive is ${archive.length} bytes; the limit is ${limits.maxArchiveBytes}`, { archiveBytes: archive.length, maxArchiveBytes: limits.maxArchiveBytes });
  }
  const directory = readZipDirectory(archive, limits.maxEntries);
  const checked: Omit<ValidatedZipEntry, 'path'>[] = [];
  let totalUncompressedBytes = 0;
  for (const record of directory.records) {
    const name = decodeName(record);
    const archivePath = checkPath(name);
    const kind = name.endsWith('/') ? 'directory' : 'file';
    checkEntryType(record, name, kind === 'directory');
    const details = { entry: name };
    if ((record.flags & FLAG_ENCRYPTED) !== 0 || record.method === 99) throw zipProblem('encrypted_entry', `entry "${name}" is encrypted`, details);
    const method = METHODS[record.method];
    if (!method) throw zipProblem('unsupported_compression', `entry "${name}" uses compression method ${record.method}; only stored and deflate are accepted`, details);
    if (kind === 'directory' && record.uncompressedBytes !== 0) throw zipProblem('corrupt_zip', `directory entry "${name}" has content`, details);
    if (method === 'stored' && record.compressedBytes !== record.uncompressedBytes) {
      throw zipProblem('size_mismatch', `stored entry "${name}" declares different compressed and uncompressed sizes`, details);
    }
    const ratio = record.uncompressedBytes / Math.max(1, record.compressedBytes);
    if (record.uncompressedBytes >= limits.ratioCheckMinBytes && ratio > limits.maxCompressionRatio) {
      throw zipProblem('compression_ratio', `entry "${name}" expands ${Math.round(ratio)}:1; the limit is ${limits.maxCompressionRatio}:1 (zip bomb?)`, { ...details, ratio });
    }
    totalUncompressedBytes += record.uncompressedBytes;
    if (totalUncompressedBytes > limits.maxTotalUncompressedBytes) {
      throw zipProblem('uncompressed_size_limit', `the archive expands to more than ${limits.maxTotalUncompressedBytes} bytes`, { maxTotalUncompressedBytes: limits.maxTotalUncompressedBytes });
    }
    const data = locateEntryData(archive, record, directory.centralDirectoryOffset, name);
    checked.push({ archivePath, kind, method, compressedBytes: record.compressedBytes, uncompressedBytes: record.uncompressedBytes, crc32: record.crc32, dataStart: data.start, dataEnd: data.end });
  }
  checkNoClashes(checked.map((entry) => ({ path: entry.archivePath, kind: entry.kind })));
  // Overlapping entries let a few KB of deflate data be counted many times over (the
  // "overlapping files" zip bomb); real archives never share bytes between entries.
  const byStart = [...checked].sort((a, b) => a.dataStart - b.dataStart);
  for (let index = 1; index < byStart.length; index += 1) {
    if (byStart[index]!.dataStart < byStart[index - 1]!.dataEnd) {
      throw zipProblem('corrupt_zip', `entries "${byStart[index - 1]!.archivePath}" and "${byStart[index]!.archivePath}" overlap`, { entry: byStart[index]!.archivePath });
    }
  }

  const kept = checked.filter((entry) => entry.archivePath.split('/')[0] !== IGNORED_TOP_FOLDER);
  const rootFolder = findRootFolder(kept.map((entry) => entry.archivePath));
  const entries = kept
    .filter((entry) => entry.archivePath !== rootFolder)
    .map((entry) => ({ ...entry, path: rootFolder === null ? entry.archivePath : entry.archivePath.slice(rootFolder.length + 1) }));
  const missing = REQUIRED_AGENT_FILES.filter((required) => !entries.some((entry) => entry.kind === 'file' && entry.path === required));
  if (missing.length > 0) {
    throw zipProblem('missing_required_file', `missing ${missing.join(' and ')} (at the archive root or in its single top-level folder)`, { missingFiles: missing });
  }
  return { entries, rootFolder, totalUncompressedBytes };
}

/** Full validation: `inspectZip` plus inflating every entry under a hard cap to prove its size and CRC. */
export function validateZip(archive: Buffer, limits: ZipLimitsInput = {}): ValidatedZip {
  const inspected = inspectZip(archive, limits);
  for (const entry of inspected.entries) {
    if (entry.kind === 'file') inflateEntry(archive, entry);
  }
  return inspected;
}
