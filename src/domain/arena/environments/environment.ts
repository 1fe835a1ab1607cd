/**
 * The contract every arena environment implements. Environments are pure: the state is a plain
 * value, `reset` and `step` return new states and never mutate their input, and all randomness
 * comes from a seeded generator carried inside the state. Same seed + same actions = same match.
 */

/** A choice among `n` actions numbered 0..n-1. */
export interface DiscreteSpace {
  readonly kind: 'discrete';
  readonly n: number;
  /** What each action number means, for documentation and the agent's init message. */
  readonly labels?: readonly string[];
}

/** A vector of real numbers, each within [low[i], high[i]]. */
export interface BoxSpace {
  readonly kind: 'box';
  readonly shape: readonly [number];
  readonly low: readonly number[];
  readonly high: readonly number[];
  /** What each component means. */
  readonly labels?: readonly string[];
}

export type Space = DiscreteSpace | BoxSpace;

/** A discrete action is an integer; a box action is a vector of numbers. */
export type Action = number | readonly number[];

export type PlayerIndex = 0 | 1;
export type PerPlayer<T> = readonly [T, T];

export interface StepResult<State> {
  readonly state: State;
  readonly rewards: PerPlayer<number>;
  readonly done: boolean;
  readonly scores: PerPlayer<number>;
}

/** JSON that a replay frame carries to draw the game (positions, scores). */
export type FrameState = { readonly [key: string]: number | readonly number[] };

export interface Environment<State> {
  readonly id: string;
  readonly description: string;
  /** What `observe` returns, the same for both players (each sees the game from its own side). */
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  /** The game always ends after this many steps, whatever the agents do. */
  readonly maxSteps: number;
  /** Constants a replay viewer needs to draw this environment (sizes, target score). */
  readonly rendering: FrameState;
  reset(seed: number): State;
  observe(state: State, player: PlayerIndex): number[];
  step(state: State, actions: PerPlayer<Action>): StepResult<State>;
  /** Scores so far, also for a state that is not finished. */
  scores(state: State): PerPlayer<number>;
  /** A compact, rounded picture of the state for replays. */
  frameState(state: State): FrameState;
}

/** Whether `action` is a member of `space`; the match runner calls this on every agent answer. */
export function isActionInSpace(space: Space, action: unknown): action is Action {
  if (space.kind === 'discrete') {
    return typeof action === 'number' && Number.isInteger(action) && action >= 0 && action < space.n;
  }
  if (!Array.isArray(action) || action.length !== space.shape[0]) return false;
  return action.every(
    (value: unknown, index) =>
      typeof value === 'number' && Number.isFinite(value) && value >= space.low[index] && value <= space.high[index],
  );
}

/** Winner by score: 0, 1, or null for a draw. */
export function leaderByScore(scores: PerPlayer<number>): PlayerIndex | null {
  if (scores[0] === scores[1]) return null;
  return scores[0] > scores[1] ? 0 : 1;
}
