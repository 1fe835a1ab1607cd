import { PONG_ACTIONS, PONG_RULES } from '../../../src/domain/arena/environments/pong';
import { LAPSIM_REWARD_PER_METRE, LapSimEnvironment, lapSimTrack } from '../../../src/domain/training/lapsim-env';
import { arcLengthDelta, pointAtArcLength, projectOntoTrack } from '../../../src/domain/training/lap-track';
import { PongTrainingEnvironment, scriptedOpponentAction, PONG_TRAINING_DEFAULTS } from '../../../src/domain/training/pong-training-env';
import type { StepResult } from '../../../src/domain/training/training-environment';

/** Steers at the centreline 10 m ahead (observation entries 4, 5) and holds `speedMs`. */
const centrelineFollower = (speedMs: number) => (observation: Float64Array): Float64Array =>
  Float64Array.of(Math.max(-1, Math.min(1, 2 * Math.atan2(observation[5]!, observation[4]!))), observation[0]! * 30 < speedMs ? 1 : -0.5);

function runLapSim(seed: number, policy: (observation: Float64Array) => Float64Array): { results: StepResult[]; environment: LapSimEnvironment } {
  const environment = new LapSimEnvironment();
  let observation = environment.reset(seed);
  const results: StepResult[] = [];
  for (;;) {
    const result = environment.step(policy(observation));
    results.push(result);
    observation = result.observation;
    if (result.done) return { results, environment };
  }
}

describe('LapSim-v1 track', () => {
  it('is a closed loop whose projection recovers arc length and lateral offset', () => {
    expect(lapSimTrack.lengthM).toBeGreaterThan(500);
    const centre = pointAtArcLength(lapSimTrack, 123);
    // 2 m to the left of the driving direction.
    const position = projectOntoTrack(lapSimTrack, centre.x - 2 * Math.sin(centre.headingRad), centre.y + 2 * Math.cos(centre.headingRad));
    expect(position.arcLengthM).toBeCloseTo(123, 1);
    expect(position.lateralOffsetM).toBeCloseTo(2, 1);
    expect(arcLengthDelta(lapSimTrack, lapSimTrack.lengthM - 1, 2)).toBeCloseTo(3, 9);
  });
});

describe('LapSim-v1', () => {
  it('is deterministic: the same seed and actions give the same episode', () => {
    const first = runLapSim(7, centrelineFollower(14)).results;
    const second = runLapSim(7, centrelineFollower(14)).results;
    expect(second).toEqual(first);
    expect(runLapSim(8, centrelineFollower(14)).results).not.toEqual(first);
  });

  it('ends with lap_complete after one lap of progress, the return being that lap in reward units', () => {
    const { results, environment } = runLapSim(3, centrelineFollower(14));
    expect(environment.outcome).toBe('lap_complete');
    expect(results[results.length - 1]).toMatchObject({ done: true, truncated: false });
    const total = results.reduce((sum, result) => sum + result.reward, 0);
    expect(total).toBeCloseTo(environment.state!.progressM * LAPSIM_REWARD_PER_METRE, 9);
    expect(environment.state!.progressM).toBeGreaterThanOrEqual(lapSimTrack.lengthM);
  });

  it('ends with off_track as soon as the car leaves the track, without truncation', () => {
    const { results, environment } = runLapSim(3, () => Float64Array.of(1, 1));
    expect(environment.outcome).toBe('off_track');
    expect(Math.abs(environment.state!.lateralOffsetM)).toBeGreaterThan(lapSimTrack.halfWidthM);
    expect(results.length).toBeLessThan(100);
    expect(results[results.length - 1]).toMatchObject({ done: true, truncated: false });
  });

  it('a car that brakes to a stop is cut by the time limit, as a truncation', () => {
    const { results, environment } = runLapSim(3, () => Float64Array.of(0, -1));
    expect(environment.outcome).toBe('time_limit');
    expect(results).toHaveLength(600);
    expect(results[599]).toMatchObject({ done: true, truncated: true });
    expect(environment.state!.speedMs).toBe(0);
  });

  it('a faster driver laps in fewer steps but earns the same progress reward', () => {
    const slow = runLapSim(3, centrelineFollower(10));
    const fast = runLapSim(3, centrelineFollower(18));
    expect(fast.environment.outcome).toBe('lap_complete');
    expect(fast.results.length).toBeLessThan(slow.results.length);
  });

  it('refuses to step before reset or after the episode ended', () => {
    expect(() => new LapSimEnvironment().step(Float64Array.of(0, 0))).toThrow(/reset/);
    const { environment } = runLapSim(3, () => Float64Array.of(1, 1));
    expect(() => environment.step(Float64Array.of(0, 0))).toThrow(/reset/);
  });
});

describe('pong training environment', () => {
  function play(seed: number, policy: (observation: Float64Array) => number, options = {}): { rewards: number[]; environment: PongTrainingEnvironment } {
    const environment = new PongTrainingEnvironment(options);
    let observation = environment.reset(seed);
    const rewards: number[] = [];
    for (;;) {
      const result = environment.step(policy(observation));
      rewards.push(result.reward);
      observation = result.observation;
      if (result.done) return { rewards, environment };
    }
  }

  it('is deterministic, and a game is first to target_score with ±1 per point', () => {
    const stay = (): number => PONG_ACTIONS.stay;
    const first = play(4, stay, { targetScore: 3 });
    expect(play(4, stay, { targetScore: 3 }).rewards).toEqual(first.rewards);
    const points = first.rewards.filter((reward) => reward !== 0);
    expect(points.every((reward) => reward === 1 || reward === -1)).toBe(true);
    const [won, lost] = first.environment.scores!;
    expect(Math.max(won, lost)).toBe(3);
    expect(points.reduce((sum, reward) => sum + reward, 0)).toBe(won - lost);
  });

  it('the scripted opponent moves at most opponentSpeedFraction of the steps', () => {
    const options = { ...PONG_TRAINING_DEFAULTS, opponentSpeedFraction: 0.6 };
    const ballFarAbove = [0.5, 0.9, 0.2, 0.2, 0.1, 0.5];
    const moves = Array.from({ length: 100 }, (_, step) => scriptedOpponentAction(ballFarAbove, step, options)).filter(
      (action) => action === PONG_ACTIONS.up,
    ).length;
    expect(moves).toBe(60);
    expect(scriptedOpponentAction([0.5, 0.5, 0, 0, 0.5, 0.5], 1, { ...options, opponentSpeedFraction: 1 })).toBe(PONG_ACTIONS.stay);
  });

  it('a ball-tracking learner beats the opponent; a paddle that never moves loses 0-3', () => {
    const tracker = (observation: Float64Array): number =>
      observation[1]! > observation[4]! + PONG_RULES.paddleSpeed ? PONG_ACTIONS.up : observation[1]! < observation[4]! - PONG_RULES.paddleSpeed ? PONG_ACTIONS.down : PONG_ACTIONS.stay;
    const tracked = play(5, tracker, { targetScore: 3 }).rewards.reduce((sum, reward) => sum + reward, 0);
    const idle = play(5, () => PONG_ACTIONS.stay, { targetScore: 3 }).rewards.reduce((sum, reward) => sum + reward, 0);
    expect(tracked).toBeGreaterThan(0);
    expect(idle).toBe(-3);
  });
});
