import type { ContainerModule } from 'inversify';
import { arenaModule } from './arena.module';
import { identityModule } from './identity.module';
import { racingModule } from './racing.module';
import { trainingModule } from './training.module';

/**
 * The bounded contexts this process is made of; adding a context is adding its module here. The
 * order is the order their routes are mounted and documented, and their roles started.
 */
export const contextModules: readonly ContainerModule[] = [identityModule, racingModule, trainingModule, arenaModule];
