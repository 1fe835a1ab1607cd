import type { Services } from '../../infrastructure/container';

export type ArenaRouteDeps = Pick<Services, 'store' | 'db' | 'bus' | 'config' | 'now' | 'newId' | 'logger'>;
