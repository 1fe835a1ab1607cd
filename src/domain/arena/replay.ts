/**
 * The replay of one match, in the JSON shape of the RL-Arena contract (snake_case fields:
 * match_id, environment, total_steps, winner, frames[step, observation, action_1, action_2,
 * reward_1, reward_2]) plus what a viewer needs to draw it: per-frame `state`, the initial state,
 * the environment's rendering constants, scores and the forfeit if there was one.
 */
import type { Action, FrameState, PerPlayer } from './environments/environment';

export type MatchSide = 'agent_1' | 'agent_2';
export type MatchWinner = MatchSide | 'draw';

export type ForfeitReason =
  | 'crashed'
  | 'timeout'
  | 'match_timeout'
  | 'invalid_action'
  | 'protocol_error'
  | 'output_limit'
  | 'sandbox_error';

export interface Forfeit {
  readonly agent: MatchSide;
  readonly reason: ForfeitReason;
  readonly detail: string;
  /** The step at which the agent failed (-1 while starting). */
  readonly step: number;
}

export interface ReplayFrame {
  readonly step: number;
  /** What agent_1 saw before acting (agent_2 sees the mirrored picture). */
  readonly observation: number[];
  readonly action_1: Action;
  readonly action_2: Action;
  readonly reward_1: number;
  readonly reward_2: number;
  /** The game after this step, for drawing. */
  readonly state: FrameState;
}

export interface Replay {
  readonly match_id: string;
  readonly environment: string;
  readonly seed: number;
  readonly agents: { readonly agent_1: string; readonly agent_2: string };
  readonly total_steps: number;
  readonly winner: MatchWinner;
  readonly scores: PerPlayer<number>;
  readonly forfeits: readonly Forfeit[];
  readonly rendering: FrameState;
  readonly initial_state: FrameState;
  readonly frames: readonly ReplayFrame[];
}

/** Observations are stored with 4 decimals: plenty to draw and study, a third of the bytes. */
export function compactObservation(observation: readonly number[]): number[] {
  return observation.map((value) => Math.round(value * 10_000) / 10_000);
}

/**
 * Who won: a single forfeit loses; two forfeits at the same step are a draw; otherwise the score
 * decides, equal scores being a draw.
 */
export function decideWinner(scores: PerPlayer<number>, forfeits: readonly Forfeit[]): MatchWinner {
  const forfeited = new Set(forfeits.map((forfeit) => forfeit.agent));
  if (forfeited.size === 2) return 'draw';
  if (forfeited.has('agent_1')) return 'agent_2';
  if (forfeited.has('agent_2')) return 'agent_1';
  if (scores[0] === scores[1]) return 'draw';
  return scores[0] > scores[1] ? 'agent_1' : 'agent_2';
}
