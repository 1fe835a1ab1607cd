import type { CommandServices } from '../../commands/command-states';

export type ArenaRouteDeps = Pick<CommandServices, 'store' | 'db' | 'bus' | 'config' | 'now' | 'newId' | 'logger'>;
