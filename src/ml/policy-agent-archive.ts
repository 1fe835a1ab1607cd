/**
 * The ZIP of an arena agent made from a trained pong policy (policyAgentFiles): what a user
 * would upload, built in memory so it goes through the arena's own submission validation.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import {
  CENTRAL_DIRECTORY_HEADER,
  CENTRAL_HEADER_BYTES,
  END_OF_CENTRAL_DIRECTORY,
  END_RECORD_BYTES,
  LOCAL_FILE_HEADER,
  LOCAL_HEADER_BYTES,
} from '../infrastructure/submissions/zip-format';
import { policyAgentFiles } from './policy-agent';

/** A fixed timestamp (1980-01-01 00:00, the DOS epoch): the same artefact gives the same bytes. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const UTF8_NAMES = 0x800;
const DEFLATE = 8;
const VERSION = 20;
const MADE_BY_UNIX = (3 << 8) | VERSION;
const REGULAR_FILE_MODE = 0o100644;

export function policyAgentArchive(artifact: unknown): Buffer {
  return zipFiles(Object.entries(policyAgentFiles(artifact)));
}

interface EntryFields {
  readonly checksum: number;
  readonly compressedBytes: number;
  readonly bytes: number;
  readonly nameBytes: number;
}

/** The fields a local header and its central directory entry share, in the same order, from `at` on. */
function writeEntryFields(header: Buffer, at: number, entry: EntryFields): void {
  header.writeUInt16LE(UTF8_NAMES, at);
  header.writeUInt16LE(DEFLATE, at + 2);
  header.writeUInt16LE(DOS_TIME, at + 4);
  header.writeUInt16LE(DOS_DATE, at + 6);
  header.writeUInt32LE(entry.checksum, at + 8);
  header.writeUInt32LE(entry.compressedBytes, at + 12);
  header.writeUInt32LE(entry.bytes, at + 16);
  header.writeUInt16LE(entry.nameBytes, at + 20);
}

/** A plain ZIP (deflate, no ZIP64) of small text files at the archive's root. */
export function zipFiles(files: [name: string, content: string][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [fileName, text] of files) {
    const content = Buffer.from(text, 'utf8');
    const data = deflateRawSync(content);
    const name = Buffer.from(fileName, 'utf8');
    const entry: EntryFields = { checksum: crc32(content) >>> 0, compressedBytes: data.length, bytes: content.length, nameBytes: name.length };

    const local = Buffer.alloc(LOCAL_HEADER_BYTES);
    local.writeUInt32LE(LOCAL_FILE_HEADER, 0);
    local.writeUInt16LE(VERSION, 4);
    writeEntryFields(local, 6, entry);
    locals.push(local, name, data);

    const central = Buffer.alloc(CENTRAL_HEADER_BYTES);
    central.writeUInt32LE(CENTRAL_DIRECTORY_HEADER, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(VERSION, 6);
    writeEntryFields(central, 8, entry);
    central.writeUInt32LE((REGULAR_FILE_MODE << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(END_RECORD_BYTES);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
