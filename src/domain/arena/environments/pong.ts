/**
 * Two-player Pong on the unit square. x runs from the left goal line (0) to the right one (1),
 * y from the bottom wall (0) to the top wall (1). Player 0 defends the left goal, player 1 the
 * right one. Each step both paddles move, then the ball moves, bounces off walls and paddles, and
 * a point is scored when it passes a goal line. See docs/environments.md for the full rules.
 */
import { InvalidStateError, ValidationError } from '../../shared/errors';
import { nextRandomBetween, seedRandom, type RandomState } from '../../shared/random';
import type { Action, Environment, FrameState, PerPlayer, PlayerIndex, StepResult } from './environment';

export const PONG_ACTIONS = { stay: 0, up: 1, down: 2 } as const;

/** Geometry and physics, in field units per step. Exported so tests and the replay page share them. */
export const PONG_RULES = {
  paddleHeight: 0.2,
  paddleSpeed: 0.03,
  /** The x of the face each paddle hits the ball with. */
  leftPaddleFaceX: 0.04,
  rightPaddleFaceX: 0.96,
  ballRadius: 0.012,
  serveSpeed: 0.015,
  /** Factor applied to the ball's speed on every paddle hit, up to maxBallSpeed. */
  paddleHitSpeedUp: 1.06,
  maxBallSpeed: 0.06,
  /** How much the hit position on the paddle (-1 edge .. +1 edge) steers the ball. */
  paddleSpin: 0.5,
  /** Seeded noise added to the bounce angle so two perfect trackers do not rally forever. */
  paddleHitJitter: 0.1,
  /** Serve angle from horizontal, in radians: never flat, never steep. */
  minServeAngle: Math.PI / 12,
  maxServeAngle: Math.PI / 4,
  /** The ball never leaves a paddle steeper than this, so it always crosses the field. */
  maxBounceAngle: Math.PI / 3,
} as const;

export interface PongOptions {
  /** First to this many points wins (21 by default). */
  targetScore?: number;
  /** Step cap after which the game ends on the current score (a draw if equal). */
  maxSteps?: number;
}

export interface PongBall {
  readonly x: number;
  readonly y: number;
  readonly vx: number;
  readonly vy: number;
}

export interface PongState {
  readonly ball: PongBall;
  /** Paddle centres' y: [left (player 0), right (player 1)]. */
  readonly paddles: PerPlayer<number>;
  readonly scores: PerPlayer<number>;
  readonly step: number;
  readonly done: boolean;
  readonly random: RandomState;
}

const HALF_PADDLE = PONG_RULES.paddleHeight / 2;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function checkedPositiveInteger(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(`pong option ${name} must be an integer from 1 to ${max}`, { option: name, value });
  }
  return value;
}

/** A ball at the centre flying towards `towardsPlayer`'s goal at a random, never-flat angle. */
function serve(random: RandomState, towardsPlayer: PlayerIndex): { ball: PongBall; random: RandomState } {
  const angle = nextRandomBetween(random, PONG_RULES.minServeAngle, PONG_RULES.maxServeAngle);
  const upOrDown = nextRandomBetween(angle.next, 0, 1);
  const verticalSign = upOrDown.value < 0.5 ? -1 : 1;
  const horizontalSign = towardsPlayer === 0 ? -1 : 1;
  return {
    ball: {
      x: 0.5,
      y: 0.5,
      vx: horizontalSign * PONG_RULES.serveSpeed * Math.cos(angle.value),
      vy: verticalSign * PONG_RULES.serveSpeed * Math.sin(angle.value),
    },
    random: upOrDown.next,
  };
}

function movePaddle(y: number, action: Action): number {
  const direction = action === PONG_ACTIONS.up ? 1 : action === PONG_ACTIONS.down ? -1 : 0;
  return clamp(y + direction * PONG_RULES.paddleSpeed, HALF_PADDLE, 1 - HALF_PADDLE);
}

function bounceOffWalls(ball: PongBall): PongBall {
  const r = PONG_RULES.ballRadius;
  if (ball.y < r) return { ...ball, y: 2 * r - ball.y, vy: Math.abs(ball.vy) };
  if (ball.y > 1 - r) return { ...ball, y: 2 * (1 - r) - ball.y, vy: -Math.abs(ball.vy) };
  return ball;
}

/** New velocity after a paddle hit: reversed, faster, steered by where it hit, with seeded jitter. */
function paddleBounce(
  ball: PongBall,
  paddleY: number,
  random: RandomState,
): { vx: number; vy: number; random: RandomState } {
  const outgoingSign = ball.vx < 0 ? 1 : -1;
  const hitOffset = clamp((ball.y - paddleY) / HALF_PADDLE, -1, 1);
  const jitter = nextRandomBetween(random, -PONG_RULES.paddleHitJitter, PONG_RULES.paddleHitJitter);
  const slope = ball.vy / Math.abs(ball.vx) + hitOffset * PONG_RULES.paddleSpin + jitter.value;
  const maxSlope = Math.tan(PONG_RULES.maxBounceAngle);
  const angle = Math.atan(clamp(slope, -maxSlope, maxSlope));
  const speed = Math.min(Math.hypot(ball.vx, ball.vy) * PONG_RULES.paddleHitSpeedUp, PONG_RULES.maxBallSpeed);
  return { vx: outgoingSign * speed * Math.cos(angle), vy: speed * Math.sin(angle), random: jitter.next };
}

/** Moves the ball one step and resolves walls and paddles; the paddles have already moved. */
function advanceBall(
  previous: PongBall,
  paddles: PerPlayer<number>,
  random: RandomState,
): { ball: PongBall; random: RandomState } {
  const r = PONG_RULES.ballRadius;
  const moved = bounceOffWalls({ ...previous, x: previous.x + previous.vx, y: previous.y + previous.vy });
  const reach = HALF_PADDLE + r;
  // A hit is the ball's leading edge crossing a paddle face during this step while level with
  // the paddle; testing the crossing (not the position) means a fast ball cannot tunnel through.
  const left = PONG_RULES.leftPaddleFaceX;
  if (previous.vx < 0 && previous.x - r >= left && moved.x - r < left && Math.abs(moved.y - paddles[0]) <= reach) {
    const bounce = paddleBounce(moved, paddles[0], random);
    return { ball: { x: 2 * (left + r) - moved.x, y: moved.y, vx: bounce.vx, vy: bounce.vy }, random: bounce.random };
  }
  const right = PONG_RULES.rightPaddleFaceX;
  if (previous.vx > 0 && previous.x + r <= right && moved.x + r > right && Math.abs(moved.y - paddles[1]) <= reach) {
    const bounce = paddleBounce(moved, paddles[1], random);
    return { ball: { x: 2 * (right - r) - moved.x, y: moved.y, vx: bounce.vx, vy: bounce.vy }, random: bounce.random };
  }
  return { ball: moved, random };
}

export function createPong(options: PongOptions = {}): Environment<PongState> {
  const targetScore = checkedPositiveInteger('targetScore', options.targetScore, 21, 1000);
  const maxSteps = checkedPositiveInteger('maxSteps', options.maxSteps, 20_000, 10_000_000);

  return {
    id: 'pong',
    description: `Two-paddle Pong, first to ${targetScore} points, at most ${maxSteps} steps`,
    observationSpace: {
      kind: 'box',
      shape: [6],
      low: [0, 0, -1, -1, 0, 0],
      high: [1, 1, 1, 1, 1, 1],
      labels: ['ball_x', 'ball_y', 'ball_vx', 'ball_vy', 'own_paddle_y', 'opponent_paddle_y'],
    },
    actionSpace: { kind: 'discrete', n: 3, labels: ['stay', 'up', 'down'] },
    maxSteps,
    rendering: {
      paddleHeight: PONG_RULES.paddleHeight,
      paddleFaceX: [PONG_RULES.leftPaddleFaceX, PONG_RULES.rightPaddleFaceX],
      ballRadius: PONG_RULES.ballRadius,
      targetScore,
    },

    reset(seed: number): PongState {
      const coin = nextRandomBetween(seedRandom(seed), 0, 1);
      const served = serve(coin.next, coin.value < 0.5 ? 0 : 1);
      return { ball: served.ball, paddles: [0.5, 0.5], scores: [0, 0], step: 0, done: false, random: served.random };
    },

    observe(state: PongState, player: PlayerIndex): number[] {
      const { ball } = state;
      // Each agent sees itself on the left: player 1's view is mirrored in x.
      const mirrored = player === 1;
      return [
        mirrored ? 1 - ball.x : ball.x,
        ball.y,
        (mirrored ? -ball.vx : ball.vx) / PONG_RULES.maxBallSpeed,
        ball.vy / PONG_RULES.maxBallSpeed,
        state.paddles[player],
        state.paddles[mirrored ? 0 : 1],
      ];
    },

    step(state: PongState, actions: PerPlayer<Action>): StepResult<PongState> {
      if (state.done) throw new InvalidStateError('pong: step called on a finished game');
      const paddles: PerPlayer<number> = [movePaddle(state.paddles[0], actions[0]), movePaddle(state.paddles[1], actions[1])];
      const advanced = advanceBall(state.ball, paddles, state.random);
      let { ball, random } = advanced;
      let scores = state.scores;
      let rewards: PerPlayer<number> = [0, 0];
      const scorer: PlayerIndex | null = ball.x < 0 ? 1 : ball.x > 1 ? 0 : null;
      if (scorer !== null) {
        scores = scorer === 0 ? [scores[0] + 1, scores[1]] : [scores[0], scores[1] + 1];
        rewards = scorer === 0 ? [1, -1] : [-1, 1];
        // The player who conceded receives the next serve.
        const served = serve(random, scorer === 0 ? 1 : 0);
        ball = served.ball;
        random = served.random;
      }
      const step = state.step + 1;
      const done = scores[0] >= targetScore || scores[1] >= targetScore || step >= maxSteps;
      return { state: { ball, paddles, scores, step, done, random }, rewards, done, scores };
    },

    scores: (state: PongState) => state.scores,

    frameState(state: PongState): FrameState {
      return {
        ball: [round4(state.ball.x), round4(state.ball.y)],
        paddles: [round4(state.paddles[0]), round4(state.paddles[1])],
        score: [state.scores[0], state.scores[1]],
      };
    },
  };
}
