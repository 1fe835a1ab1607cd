/**
 * The arena's pong as a single-agent training environment: the learner plays the left paddle
 * (player 0, seeing exactly the observation an arena agent sees), the right paddle is a scripted
 * opponent that tracks the ball but moves only on a fraction of steps, so it can be beaten.
 * Reward is the arena's own: +1 for a point won, −1 for a point lost.
 */
import type { Environment, PerPlayer } from '../arena/environments/environment';
import { createPong, PONG_ACTIONS, type PongState } from '../arena/environments/pong';
import type { DiscreteEnvironment, StepResult } from './training-environment';

export const PONG_TRAINING_ENVIRONMENT_ID = 'pong';

export interface PongTrainingOptions {
  /** An episode is one game to this many points (shorter than the arena's 21 to keep episodes short). */
  targetScore: number;
  /** Step cap of a game; reaching it is a time-limit truncation, not a terminal state. */
  maxSteps: number;
  /** Share of steps on which the opponent may move; its top speed is this times the learner's. */
  opponentSpeedFraction: number;
  /** The opponent holds still while the ball is within this distance of its paddle centre. */
  opponentDeadZone: number;
}

export const PONG_TRAINING_DEFAULTS: PongTrainingOptions = {
  targetScore: 5,
  maxSteps: 5000,
  opponentSpeedFraction: 0.6,
  opponentDeadZone: 0.02,
};

/** The opponent's action from its own (mirrored) observation: [ball_x, ball_y, vx, vy, own_y, other_y]. */
export function scriptedOpponentAction(observation: readonly number[], step: number, options: PongTrainingOptions): number {
  // Spread the allowed moves evenly over time (Bresenham-style) so the speed limit is exact and seed-free.
  const mayMove = Math.floor((step + 1) * options.opponentSpeedFraction) > Math.floor(step * options.opponentSpeedFraction);
  if (!mayMove) return PONG_ACTIONS.stay;
  const ballY = observation[1]!;
  const paddleY = observation[4]!;
  if (ballY > paddleY + options.opponentDeadZone) return PONG_ACTIONS.up;
  if (ballY < paddleY - options.opponentDeadZone) return PONG_ACTIONS.down;
  return PONG_ACTIONS.stay;
}

export class PongTrainingEnvironment implements DiscreteEnvironment {
  readonly id = PONG_TRAINING_ENVIRONMENT_ID;
  readonly observationSize = 6;
  readonly actionKind = 'discrete' as const;
  readonly actionCount = 3;
  readonly options: PongTrainingOptions;
  private readonly game: Environment<PongState>;
  private state: PongState | undefined;

  constructor(options: Partial<PongTrainingOptions> = {}) {
    this.options = { ...PONG_TRAINING_DEFAULTS, ...options };
    if (!(this.options.opponentSpeedFraction > 0 && this.options.opponentSpeedFraction <= 1)) {
      throw new RangeError('opponentSpeedFraction must be in (0, 1]');
    }
    this.game = createPong({ targetScore: this.options.targetScore, maxSteps: this.options.maxSteps });
  }

  get scores(): PerPlayer<number> | undefined {
    return this.state?.scores;
  }

  reset(seed: number): Float64Array {
    this.state = this.game.reset(seed);
    return Float64Array.from(this.game.observe(this.state, 0));
  }

  step(action: number): StepResult {
    const state = this.state;
    if (!state || state.done) throw new Error('pong: call reset before step');
    const opponent = scriptedOpponentAction(this.game.observe(state, 1), state.step, this.options);
    const result = this.game.step(state, [action, opponent]);
    this.state = result.state;
    const decided = result.scores[0] >= this.options.targetScore || result.scores[1] >= this.options.targetScore;
    return {
      observation: Float64Array.from(this.game.observe(result.state, 0)),
      reward: result.rewards[0],
      done: result.done,
      truncated: result.done && !decided,
    };
  }
}
