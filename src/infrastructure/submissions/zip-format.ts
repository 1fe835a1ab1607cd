/**
 * Reads the structure of a ZIP archive from a Buffer: the end-of-central-directory record, the
 * central directory and each entry's local header. Nothing is inflated and nothing is trusted:
 * every offset and length is bounds-checked against the buffer, and anything this reader does not
 * need (ZIP64, multi-disk, trailing junk) is refused rather than guessed at.
 */
import { ValidationError } from '../../domain/shared/errors';

export type ZipProblem =
  | 'archive_too_large'
  | 'not_a_zip'
  | 'unsupported_zip'
  | 'corrupt_zip'
  | 'too_many_entries'
  | 'invalid_name'
  | 'absolute_path'
  | 'path_traversal'
  | 'backslash_in_name'
  | 'duplicate_entry'
  | 'symlink'
  | 'special_file'
  | 'encrypted_entry'
  | 'unsupported_compression'
  | 'compression_ratio'
  | 'uncompressed_size_limit'
  | 'size_mismatch'
  | 'crc_mismatch'
  | 'missing_required_file';

/** The one error the validator throws: a 400 naming the problem and the entry it is about. */
export function zipProblem(problem: ZipProblem, message: string, details: Record<string, unknown> = {}): ValidationError {
  return new ValidationError(`Invalid ZIP archive: ${message}`, { problem, ...details });
}

/** Record signatures and fixed sizes of the ZIP format (APPNOTE 4.3), for readers and writers alike. */
export const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
export const CENTRAL_DIRECTORY_HEADER = 0x02014b50;
export const LOCAL_FILE_HEADER = 0x04034b50;
export const END_RECORD_BYTES = 22;
export const CENTRAL_HEADER_BYTES = 46;
export const LOCAL_HEADER_BYTES = 30;
const MAX_COMMENT_BYTES = 0xffff;

export interface CentralDirectoryRecord {
  readonly index: number;
  /** The raw name bytes, to compare with the local header's. */
  readonly nameBytes: Buffer;
  readonly versionMadeBy: number;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly externalAttributes: number;
  readonly localHeaderOffset: number;
}

export interface ZipDirectory {
  readonly records: CentralDirectoryRecord[];
  readonly centralDirectoryOffset: number;
}

function findEndRecord(archive: Buffer): number {
  const lowest = Math.max(0, archive.length - END_RECORD_BYTES - MAX_COMMENT_BYTES);
  for (let offset = archive.length - END_RECORD_BYTES; offset >= lowest; offset -= 1) {
    if (archive.readUInt32LE(offset) !== END_OF_CENTRAL_DIRECTORY) continue;
    // The comment must end exactly at the end of the buffer; otherwise this is a signature-like
    // sequence inside data or the archive carries trailing junk.
    if (offset + END_RECORD_BYTES + archive.readUInt16LE(offset + 20) === archive.length) return offset;
  }
  throw zipProblem('not_a_zip', 'no end-of-central-directory record found (not a ZIP file, or truncated)');
}

/** Parses the end record and the central directory; refuses more than `maxEntries` entries up front. */
export function readZipDirectory(archive: Buffer, maxEntries: number): ZipDirectory {
  if (archive.length < END_RECORD_BYTES) throw zipProblem('not_a_zip', `only ${archive.length} bytes: too short to be a ZIP file`);
  const end = findEndRecord(archive);
  const diskNumber = archive.readUInt16LE(end + 4);
  const centralDirectoryDisk = archive.readUInt16LE(end + 6);
  const entriesOnDisk = archive.readUInt16LE(end + 8);
  const entryCount = archive.readUInt16LE(end + 10);
  const centralDirectoryBytes = archive.readUInt32LE(end + 12);
  const centralDirectoryOffset = archive.readUInt32LE(end + 16);
  if (entryCount === 0xffff || centralDirectoryBytes === 0xffffffff || centralDirectoryOffset === 0xffffffff) {
    throw zipProblem('unsupported_zip', 'ZIP64 archives are not supported');
  }
  if (diskNumber !== 0 || centralDirectoryDisk !== 0 || entriesOnDisk !== entryCount) {
    throw zipProblem('unsupported_zip', 'multi-disk (split) archives are not supported');
  }
  if (entryCount > maxEntries) {
    throw zipProblem('too_many_entries', `${entryCount} entries; the limit is ${maxEntries}`, { entryCount, maxEntries });
  }
  if (centralDirectoryOffset + centralDirectoryBytes > end) {
    throw zipProblem('corrupt_zip', 'the central directory lies outside the archive');
  }

  const records: CentralDirectoryRecord[] = [];
  let cursor = centralDirectoryOffset;
  const directoryEnd = centralDirectoryOffset + centralDirectoryBytes;
  for (let index = 0; index < entryCount; index += 1) {
    if (cursor + CENTRAL_HEADER_BYTES > directoryEnd || archive.readUInt32LE(cursor) !== CENTRAL_DIRECTORY_HEADER) {
      throw zipProblem('corrupt_zip', `central directory entry ${index} is malformed`);
    }
    const nameLength = archive.readUInt16LE(cursor + 28);
    const extraLength = archive.readUInt16LE(cursor + 30);
    const commentLength = archive.readUInt16LE(cursor + 32);
    const recordEnd = cursor + CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength;
    if (recordEnd > directoryEnd) throw zipProblem('corrupt_zip', `central directory entry ${index} overruns the directory`);
    const compressedBytes = archive.readUInt32LE(cursor + 20);
    const uncompressedBytes = archive.readUInt32LE(cursor + 24);
    const localHeaderOffset = archive.readUInt32LE(cursor + 42);
    if ([compressedBytes, uncompressedBytes, localHeaderOffset].includes(0xffffffff)) {
      throw zipProblem('unsupported_zip', 'ZIP64 entries are not supported');
    }
    records.push({
      index,
      nameBytes: archive.subarray(cursor + CENTRAL_HEADER_BYTES, cursor + CENTRAL_HEADER_BYTES + nameLength),
      versionMadeBy: archive.readUInt16LE(cursor + 4),
      flags: archive.readUInt16LE(cursor + 8),
      method: archive.readUInt16LE(cursor + 10),
      crc32: archive.readUInt32LE(cursor + 16),
      compressedBytes,
      uncompressedBytes,
      externalAttributes: archive.readUInt32LE(cursor + 38),
      localHeaderOffset,
    });
    cursor = recordEnd;
  }
  if (cursor !== directoryEnd) throw zipProblem('corrupt_zip', 'the central directory size does not match its entries');
  return { records, centralDirectoryOffset };
}

export interface EntryData {
  /** Offset of the first compressed byte. */
  readonly start: number;
  readonly end: number;
}

/**
 * Locates an entry's data through its local header, and checks the local header agrees with the
 * central directory: archives whose two headers disagree are how some extractors get fooled.
 */
export function locateEntryData(archive: Buffer, record: CentralDirectoryRecord, dataLimit: number, name: string): EntryData {
  const offset = record.localHeaderOffset;
  if (offset + LOCAL_HEADER_BYTES > dataLimit || archive.readUInt32LE(offset) !== LOCAL_FILE_HEADER) {
    throw zipProblem('corrupt_zip', `entry "${name}" has no valid local header`, { entry: name });
  }
  const localMethod = archive.readUInt16LE(offset + 8);
  const nameLength = archive.readUInt16LE(offset + 26);
  const extraLength = archive.readUInt16LE(offset + 28);
  const localName = archive.subarray(offset + LOCAL_HEADER_BYTES, offset + LOCAL_HEADER_BYTES + nameLength);
  if (localMethod !== record.method || !localName.equals(record.nameBytes)) {
    throw zipProblem('corrupt_zip', `entry "${name}": local header disagrees with the central directory`, { entry: name });
  }
  const start = offset + LOCAL_HEADER_BYTES + nameLength + extraLength;
  const end = start + record.compressedBytes;
  if (end > dataLimit) throw zipProblem('corrupt_zip', `entry "${name}" data runs past the end of the archive`, { entry: name });
  return { start, end };
}
