/**
 * The environments the arena knows. Adding one = writing an `Environment<State>` (see
 * docs/environments.md) and adding an entry here; the match runner, replays and the agent
 * protocol only ever see the erased `ArenaEnvironment`.
 */
import { ValidationError } from '../../shared/errors';
import type { Environment } from './environment';
import { createPong, type PongOptions } from './pong';

/**
 * An environment whose state type is hidden. The runner only hands a state back to the same
 * environment that produced it, which is what makes the erasure in `eraseStateType` sound.
 */
export type ArenaEnvironment = Environment<EnvironmentState>;
declare const environmentStateBrand: unique symbol;
export type EnvironmentState = { readonly [environmentStateBrand]: true };

export function eraseStateType<State>(environment: Environment<State>): ArenaEnvironment {
  const unwrap = (state: EnvironmentState): State => state as unknown as State;
  const wrap = (state: State): EnvironmentState => state as unknown as EnvironmentState;
  return {
    id: environment.id,
    description: environment.description,
    observationSpace: environment.observationSpace,
    actionSpace: environment.actionSpace,
    maxSteps: environment.maxSteps,
    rendering: environment.rendering,
    reset: (seed) => wrap(environment.reset(seed)),
    observe: (state, player) => environment.observe(unwrap(state), player),
    step: (state, actions) => {
      const result = environment.step(unwrap(state), actions);
      return { ...result, state: wrap(result.state) };
    },
    scores: (state) => environment.scores(unwrap(state)),
    frameState: (state) => environment.frameState(unwrap(state)),
  };
}

export interface EnvironmentEntry {
  readonly id: string;
  readonly summary: string;
  /** Options are environment-specific (e.g. pong's targetScore); the entry validates them. */
  create(options?: EnvironmentOptions): ArenaEnvironment;
}

export type EnvironmentOptions = Readonly<Record<string, number>>;

function pongOptions(options: EnvironmentOptions): PongOptions {
  const known = new Set(['targetScore', 'maxSteps']);
  const unknown = Object.keys(options).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new ValidationError(`unknown pong option(s): ${unknown.join(', ')}`, { unknownOptions: unknown });
  }
  return { targetScore: options.targetScore, maxSteps: options.maxSteps };
}

export const environments: ReadonlyMap<string, EnvironmentEntry> = new Map([
  [
    'pong',
    {
      id: 'pong',
      summary: 'Two-paddle Pong, first to 21',
      create: (options: EnvironmentOptions = {}) => eraseStateType(createPong(pongOptions(options))),
    },
  ],
]);

export function knownEnvironmentIds(): string[] {
  return [...environments.keys()];
}

/** The environment `id` with its options; a ValidationError listing the known ids otherwise. */
export function getEnvironment(id: string, options?: EnvironmentOptions): ArenaEnvironment {
  const entry = environments.get(id);
  if (!entry) {
    throw new ValidationError(`unknown environment "${id}"; known environments: ${knownEnvironmentIds().join(', ')}`, {
      environmentId: id,
      knownEnvironments: knownEnvironmentIds(),
    });
  }
  return entry.create(options);
}
