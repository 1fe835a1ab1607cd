import { join } from 'node:path';
import type { Config } from '../config/config';
import type { ArtifactStore } from './artifact-store';
import { LocalArtifactStore } from './local-artifact-store';
import { LocalReplayStore, type ReplayStore } from './replay-store';

/** Where the arena keeps files, all under DATA_DIR by default (docs/arena.md). */
export interface ArenaStorage {
  artifacts: ArtifactStore;
  replays: ReplayStore;
  /** Extracted submissions and their virtualenvs: `<buildsDir>/<submission id>/{agent,venv}`. */
  buildsDir: string;
}

export function arenaStorage(config: Pick<Config, 'dataDir'>): ArenaStorage {
  return {
    artifacts: new LocalArtifactStore(join(config.dataDir, 'artifacts')),
    replays: new LocalReplayStore(join(config.dataDir, 'replays')),
    buildsDir: join(config.dataDir, 'builds'),
  };
}

/** URL path the replay files are served under (the contract's `replay_json_url`). */
export const REPLAYS_URL_PATH = '/storage/replays';

/** Static mounts for the HTTP app: the replay directory, when it is on this machine. */
export function arenaStaticMounts(config: Pick<Config, 'dataDir'>): { urlPath: string; dir: string }[] {
  const dir = arenaStorage(config).replays.localDirectory();
  return dir === null ? [] : [{ urlPath: REPLAYS_URL_PATH, dir }];
}
