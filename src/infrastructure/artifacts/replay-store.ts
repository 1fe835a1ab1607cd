import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ReplayFormat = 'json' | 'html';

/**
 * ReplayStore port: the JSON and HTML replay of each match, written once by the match worker and
 * served publicly (`/storage/replays/<match>.json|html` and `/api/v1/matches/:id/replay`).
 */
export interface ReplayStore {
  save(matchId: string, replay: { json: string; html: string }): Promise<{ jsonKey: string; htmlKey: string }>;
  /** The file's bytes, or null when there is none. */
  read(matchId: string, format: ReplayFormat): Promise<Buffer | null>;
  /** The directory served as /storage/replays; null for remote stores. */
  localDirectory(): string | null;
}

/** Replay files are named by match id; ids are UUIDs, checked before they reach a path. */
const MATCH_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const replayFileName = (matchId: string, format: ReplayFormat): string => {
  if (!MATCH_ID.test(matchId)) throw new Error(`not a match id: ${JSON.stringify(matchId)}`);
  return `${matchId.toLowerCase()}.${format}`;
};

export class LocalReplayStore implements ReplayStore {
  constructor(private readonly root: string) {}

  async save(matchId: string, replay: { json: string; html: string }): Promise<{ jsonKey: string; htmlKey: string }> {
    // World-readable: replays are public, and the directory may be served by a web server.
    await mkdir(this.root, { recursive: true, mode: 0o755 });
    const jsonKey = replayFileName(matchId, 'json');
    const htmlKey = replayFileName(matchId, 'html');
    await this.writeAtomically(jsonKey, replay.json);
    await this.writeAtomically(htmlKey, replay.html);
    return { jsonKey, htmlKey };
  }

  async read(matchId: string, format: ReplayFormat): Promise<Buffer | null> {
    if (!MATCH_ID.test(matchId)) return null;
    try {
      return await readFile(join(this.root, replayFileName(matchId, format)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  localDirectory(): string {
    return this.root;
  }

  /** A replay written twice (a redelivered match) is replaced whole, never seen half-written. */
  private async writeAtomically(name: string, content: string): Promise<void> {
    const path = join(this.root, name);
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, content, { mode: 0o644, flag: 'wx' });
      await rename(temporary, path);
    } finally {
      await rm(temporary, { force: true });
    }
  }
}
