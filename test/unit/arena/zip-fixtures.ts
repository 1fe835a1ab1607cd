/**
 * A tiny ZIP writer for tests, able to write the lies hostile archives tell: wrong declared sizes,
 * symlink modes, encryption flags, names that disagree between local and central headers.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipFixtureEntry {
  name: string;
  content?: Buffer | string;
  method?: 'stored' | 'deflate';
  /** Declared uncompressed size in both headers; the real size when absent. */
  declaredUncompressedBytes?: number;
  declaredCrc32?: number;
  /** st_mode put in the external attributes (host = Unix), e.g. 0o120777 for a symlink. */
  unixMode?: number;
  flags?: number;
  /** A different name in the local header than in the central directory. */
  localName?: string;
}

export function buildZip(entries: ZipFixtureEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const content = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content ?? '');
    const method = entry.method ?? 'deflate';
    const data = method === 'deflate' ? deflateRawSync(content) : content;
    const name = Buffer.from(entry.name, 'utf8');
    const localName = Buffer.from(entry.localName ?? entry.name, 'utf8');
    const crc = entry.declaredCrc32 ?? crc32(content) >>> 0;
    const uncompressed = entry.declaredUncompressedBytes ?? content.length;
    const flags = (entry.flags ?? 0) | 0x800;
    const methodCode = method === 'deflate' ? 8 : 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(methodCode, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(uncompressed, 22);
    local.writeUInt16LE(localName.length, 26);
    locals.push(local, localName, data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(methodCode, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(uncompressed, 24);
    central.writeUInt16LE(name.length, 28);
    const mode = entry.unixMode ?? (entry.name.endsWith('/') ? 0o040755 : 0o100644);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + localName.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The two files every valid agent archive has. */
export const AGENT_FILES: ZipFixtureEntry[] = [
  { name: 'agent.py', content: 'class Agent:\n    def __init__(self, observation_space, action_space):\n        pass\n\n    def act(self, observation):\n        return 0\n' },
  { name: 'requirements.txt', content: '' },
];
