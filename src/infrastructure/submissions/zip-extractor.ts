/**
 * Extracts a submission ZIP into a new directory. The archive is inspected first (names, types,
 * declared sizes: see zip-validator.ts); then each file is stream-inflated with a hard cap at its
 * declared size and at the archive's total budget, so a lying header cannot make us write more
 * than the limits, and its CRC is checked. On any failure the directory is removed.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { zipProblem } from './zip-format';
import { inspectZip, type ValidatedZip, type ValidatedZipEntry, type ZipLimitsInput } from './zip-validator';

/** Counts bytes through the stream, fails past `capBytes`, and computes the CRC on the way. */
class CappedCrcCounter extends Transform {
  bytes = 0;
  crc = 0;
  constructor(
    private readonly capBytes: number,
    private readonly entry: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.capBytes) {
      callback(zipProblem('size_mismatch', `entry "${this.entry}" inflates to more than the ${this.capBytes} bytes allowed`, { entry: this.entry }));
      return;
    }
    this.crc = crc32(chunk, this.crc);
    callback(null, chunk);
  }
}

function targetPath(destDir: string, entry: ValidatedZipEntry): string {
  const target = resolve(destDir, ...entry.path.split('/'));
  // inspectZip already refused "..", absolute paths and backslashes; this is the second lock.
  if (!target.startsWith(destDir + sep)) {
    throw zipProblem('path_traversal', `entry "${entry.archivePath}" would be written outside the target directory`, { entry: entry.archivePath });
  }
  return target;
}

async function extractFile(archive: Buffer, entry: ValidatedZipEntry, target: string, budgetBytes: number): Promise<number> {
  const compressed = Readable.from([archive.subarray(entry.dataStart, entry.dataEnd)]);
  const counter = new CappedCrcCounter(Math.min(entry.uncompressedBytes, budgetBytes), entry.archivePath);
  // 'wx': never overwrite and never follow a symlink planted at the target.
  const output = createWriteStream(target, { flags: 'wx', mode: 0o644 });
  try {
    if (entry.method === 'stored') await pipeline(compressed, counter, output);
    else await pipeline(compressed, createInflateRaw(), counter, output);
  } catch (error) {
    if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('Z_')) {
      throw zipProblem('corrupt_zip', `entry "${entry.archivePath}" has corrupt compressed data`, { entry: entry.archivePath });
    }
    throw error;
  }
  if (counter.bytes !== entry.uncompressedBytes) {
    throw zipProblem('size_mismatch', `entry "${entry.archivePath}" declares ${entry.uncompressedBytes} bytes but holds ${counter.bytes}`, { entry: entry.archivePath });
  }
  if (counter.crc >>> 0 !== entry.crc32) {
    throw zipProblem('crc_mismatch', `entry "${entry.archivePath}" fails its CRC-32 check`, { entry: entry.archivePath });
  }
  return counter.bytes;
}

/**
 * Validates `archive` and writes its files under `destDir`, which must not exist yet (it is
 * created, world-readable so the sandboxed agent user can read it). Returns the validated listing.
 */
export async function extractValidatedZip(archive: Buffer, destDir: string, limits: ZipLimitsInput = {}): Promise<ValidatedZip> {
  const validated = inspectZip(archive, limits);
  const root = resolve(destDir);
  await mkdir(dirname(root), { recursive: true });
  await mkdir(root, { mode: 0o755 }); // fails if it exists: never extract over something
  try {
    let remainingBytes = validated.totalUncompressedBytes;
    for (const entry of validated.entries) {
      const target = targetPath(root, entry);
      if (entry.kind === 'directory') {
        await mkdir(target, { recursive: true, mode: 0o755 });
        continue;
      }
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      remainingBytes -= await extractFile(archive, entry, target, remainingBytes);
    }
    return validated;
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
