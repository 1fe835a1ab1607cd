import { isActionInSpace, leaderByScore, type PerPlayer } from '../../../src/domain/arena/environments/environment';
import { createPong, PONG_ACTIONS, PONG_RULES, type PongState } from '../../../src/domain/arena/environments/pong';
import { getEnvironment } from '../../../src/domain/arena/environments/registry';
import { InvalidStateError, ValidationError } from '../../../src/domain/shared/errors';
import { nextRandom, seedRandom } from '../../../src/domain/shared/random';

const pong = createPong();
const { stay, up, down } = PONG_ACTIONS;
const r = PONG_RULES.ballRadius;

function stateWith(overrides: Partial<PongState>): PongState {
  return { ...pong.reset(1), ...overrides };
}

/** A tracker that follows the ball: the example agent's policy, in TypeScript. */
function track(observation: number[]): number {
  const [, ballY, , , ownY] = observation;
  if (ballY! > ownY! + 0.02) return up;
  if (ballY! < ownY! - 0.02) return down;
  return stay;
}

describe('pong rules', () => {
  it('scores a point for the right player when the ball passes the left goal line, and serves to the loser', () => {
    const state = stateWith({ ball: { x: 0.01, y: 0.9, vx: -0.02, vy: 0 }, paddles: [0.1, 0.5] });
    const result = pong.step(state, [stay, stay]);
    expect(result.scores).toEqual([0, 1]);
    expect(result.rewards).toEqual([-1, 1]);
    expect(result.state.ball.x).toBe(0.5);
    expect(result.state.ball.y).toBe(0.5);
    expect(result.state.ball.vx).toBeLessThan(0); // towards player 0, who conceded
    expect(result.done).toBe(false);
  });

  it('scores for the left player on the right goal line', () => {
    const state = stateWith({ ball: { x: 0.995, y: 0.1, vx: 0.02, vy: 0 }, paddles: [0.5, 0.9] });
    const result = pong.step(state, [stay, stay]);
    expect(result.scores).toEqual([1, 0]);
    expect(result.rewards).toEqual([1, -1]);
    expect(result.state.ball.vx).toBeGreaterThan(0);
  });

  it('bounces the ball off the top and bottom walls', () => {
    const top = pong.step(stateWith({ ball: { x: 0.5, y: 1 - r - 0.005, vx: 0.01, vy: 0.02 } }), [stay, stay]);
    expect(top.state.ball.vy).toBeCloseTo(-0.02);
    expect(top.state.ball.y).toBeCloseTo(1 - r - 0.015);
    const bottom = pong.step(stateWith({ ball: { x: 0.5, y: r + 0.005, vx: 0.01, vy: -0.02 } }), [stay, stay]);
    expect(bottom.state.ball.vy).toBeCloseTo(0.02);
    expect(bottom.state.ball.y).toBeCloseTo(r + 0.015);
  });

  it('bounces the ball off a paddle it meets, faster than it came', () => {
    const face = PONG_RULES.leftPaddleFaceX;
    const incoming = { x: face + r + 0.01, y: 0.5, vx: -0.02, vy: 0 };
    const result = pong.step(stateWith({ ball: incoming, paddles: [0.5, 0.5] }), [stay, stay]);
    const { ball } = result.state;
    expect(ball.vx).toBeGreaterThan(0);
    expect(ball.x).toBeGreaterThanOrEqual(face + r);
    expect(Math.hypot(ball.vx, ball.vy)).toBeCloseTo(0.02 * PONG_RULES.paddleHitSpeedUp, 6);
    expect(result.scores).toEqual([0, 0]);
  });

  it('bounces off the right paddle as well and never exceeds the maximum ball speed', () => {
    const face = PONG_RULES.rightPaddleFaceX;
    const incoming = { x: face - r - 0.01, y: 0.3, vx: PONG_RULES.maxBallSpeed, vy: 0 };
    const result = pong.step(stateWith({ ball: incoming, paddles: [0.5, 0.3] }), [stay, stay]);
    expect(result.state.ball.vx).toBeLessThan(0);
    expect(Math.hypot(result.state.ball.vx, result.state.ball.vy)).toBeCloseTo(PONG_RULES.maxBallSpeed, 9);
  });

  it('lets the ball through when the paddle is not there', () => {
    const face = PONG_RULES.leftPaddleFaceX;
    const incoming = { x: face + r + 0.01, y: 0.9, vx: -0.02, vy: 0 };
    const result = pong.step(stateWith({ ball: incoming, paddles: [0.2, 0.5] }), [stay, stay]);
    expect(result.state.ball.vx).toBeLessThan(0);
    expect(result.state.ball.x - r).toBeLessThan(face); // its leading edge is past the paddle face
  });

  it('moves paddles by the paddle speed and keeps them on the field', () => {
    const moved = pong.step(stateWith({ paddles: [0.5, 0.5] }), [up, down]).state.paddles;
    expect(moved[0]).toBeCloseTo(0.5 + PONG_RULES.paddleSpeed);
    expect(moved[1]).toBeCloseTo(0.5 - PONG_RULES.paddleSpeed);
    const atWalls = pong.step(stateWith({ paddles: [0.89, 0.11] }), [up, down]).state.paddles;
    expect(atWalls).toEqual([1 - PONG_RULES.paddleHeight / 2, PONG_RULES.paddleHeight / 2]);
  });

  it('mirrors the observation so each player sees itself on the left', () => {
    const state = stateWith({ ball: { x: 0.2, y: 0.7, vx: 0.03, vy: -0.015 }, paddles: [0.3, 0.8] });
    expect(pong.observe(state, 0)).toEqual([0.2, 0.7, 0.5, -0.25, 0.3, 0.8]);
    const mirrored = pong.observe(state, 1);
    expect(mirrored[0]).toBeCloseTo(0.8);
    expect(mirrored.slice(1)).toEqual([0.7, -0.5, -0.25, 0.8, 0.3]);
  });

  it('is deterministic: the same seed and actions give the same trajectory', () => {
    const play = (seed: number): PongState[] => {
      let random = seedRandom(99);
      let state = pong.reset(seed);
      const trajectory = [state];
      for (let i = 0; i < 3000 && !state.done; i += 1) {
        const first = nextRandom(random);
        const second = nextRandom(first.next);
        random = second.next;
        const actions: PerPlayer<number> = [Math.floor(first.value * 3), Math.floor(second.value * 3)];
        state = pong.step(state, actions).state;
        trajectory.push(state);
      }
      return trajectory;
    };
    expect(play(7)).toEqual(play(7));
    expect(play(7)).not.toEqual(play(8));
  });

  it('keeps every observation inside the observation space', () => {
    const space = pong.observationSpace;
    if (space.kind !== 'box') throw new Error('pong observes a box');
    let state = pong.reset(3);
    for (let i = 0; i < 5000 && !state.done; i += 1) {
      for (const player of [0, 1] as const) {
        pong.observe(state, player).forEach((value, index) => {
          expect(value).toBeGreaterThanOrEqual(space.low[index]!);
          expect(value).toBeLessThanOrEqual(space.high[index]!);
        });
      }
      state = pong.step(state, [track(pong.observe(state, 0)), (i % 3) as 0 | 1 | 2]).state;
    }
  });

  it('ends when a player reaches the target score, and refuses to step further', () => {
    const firstToThree = createPong({ targetScore: 3 });
    let state = firstToThree.reset(11);
    let result = firstToThree.step(state, [stay, stay]);
    while (!result.done) {
      state = result.state;
      result = firstToThree.step(state, [track(firstToThree.observe(state, 0)), stay]);
    }
    expect(result.scores).toEqual([3, expect.any(Number)]);
    expect(result.scores[1]).toBeLessThan(3);
    expect(leaderByScore(result.scores)).toBe(0);
    expect(() => firstToThree.step(result.state, [stay, stay])).toThrow(InvalidStateError);
  });

  it('ends at the step cap, a draw when the score is level', () => {
    const capped = createPong({ maxSteps: 5 });
    let state = capped.reset(1);
    for (let i = 0; i < 5; i += 1) state = capped.step(state, [stay, stay]).state;
    expect(state.done).toBe(true);
    expect(state.step).toBe(5);
    expect(leaderByScore(state.scores)).toBeNull();
  });

  it('plays a full game to 21 between a tracker and a random player; the tracker wins', () => {
    let random = seedRandom(5);
    let state = pong.reset(2024);
    while (!state.done) {
      const draw = nextRandom(random);
      random = draw.next;
      state = pong.step(state, [track(pong.observe(state, 0)), Math.floor(draw.value * 3)]).state;
    }
    expect(state.scores[0]).toBe(21);
    expect(state.step).toBeLessThan(pong.maxSteps);
  });

  it('checks actions against the action space', () => {
    expect(isActionInSpace(pong.actionSpace, 2)).toBe(true);
    expect(isActionInSpace(pong.actionSpace, 3)).toBe(false);
    expect(isActionInSpace(pong.actionSpace, 1.5)).toBe(false);
    expect(isActionInSpace(pong.actionSpace, '1')).toBe(false);
    expect(isActionInSpace({ kind: 'box', shape: [2], low: [0, 0], high: [1, 1] }, [0.5, 1])).toBe(true);
    expect(isActionInSpace({ kind: 'box', shape: [2], low: [0, 0], high: [1, 1] }, [0.5, 2])).toBe(false);
  });
});

describe('environment registry', () => {
  it('creates pong with options', () => {
    const env = getEnvironment('pong', { targetScore: 3 });
    expect(env.id).toBe('pong');
    expect(env.description).toContain('first to 3');
  });

  it('names the known environments for an unknown id', () => {
    expect(() => getEnvironment('chess')).toThrow(ValidationError);
    expect(() => getEnvironment('chess')).toThrow(/known environments: pong/);
  });

  it('rejects unknown and out-of-range options', () => {
    expect(() => getEnvironment('pong', { speed: 3 })).toThrow(/unknown pong option/);
    expect(() => getEnvironment('pong', { targetScore: 0 })).toThrow(ValidationError);
  });
});
