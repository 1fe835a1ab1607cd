/**
 * LapSim-v1: a kinematic bicycle-model car on a closed track. Reward is centreline progress, the
 * episode ends when the car leaves the track, completes a lap from wherever it started, or runs
 * out of time. docs/training.md describes the model, the spaces and the reward.
 */
import { arcLengthDelta, buildClosedTrack, pointAtArcLength, projectOntoTrack, type Track, wrapAngle } from './lap-track';
import { createSeededRandom, uniformBetween } from './seeded-random';
import { clampUnit, type ContinuousEnvironment, type StepResult } from './training-environment';

export const LAPSIM_ENVIRONMENT_ID = 'LapSim-v1';

/** A ~570 m circuit (metres, counter-clockwise) with a hairpin-ish 19 m radius as its tightest corner. */
const CIRCUIT_CONTROL_POINTS: ReadonlyArray<readonly [number, number]> = [
  [0, 0], [60, 0], [120, 0], [160, 15], [175, 50], [160, 85], [120, 95],
  [90, 75], [60, 70], [30, 90], [-10, 95], [-40, 70], [-45, 30], [-30, 5],
];

export const LAPSIM_CAR = {
  timeStepS: 0.1,
  wheelbaseM: 2.6,
  /** Centre of mass sits midway, so the slip angle uses half the wheelbase. */
  rearAxleToCentreM: 1.3,
  maxSteeringRad: 0.45,
  maxAccelerationMs2: 6,
  maxBrakingMs2: 10,
  /** Quadratic drag chosen so full throttle settles near 35 m/s. */
  dragPerSpeedSq: 6 / (35 * 35),
  /** Lateral grip: above this the car runs wide instead of turning tighter (understeer). */
  maxLateralAccelerationMs2: 9,
  maxEpisodeSteps: 600,
} as const;

/** Observation scaling so every entry is roughly in [-1, 1] for the networks. */
const SPEED_SCALE_MS = 30;
const LOOKAHEAD_SCALE_M = 50;
export const LAPSIM_LOOKAHEAD_M: readonly number[] = [10, 25, 45];
export const LAPSIM_OBSERVATION_SIZE = 4 + 2 * LAPSIM_LOOKAHEAD_M.length;
/** Reward per metre of progress: a lap is worth ~57, which keeps Q values small. */
export const LAPSIM_REWARD_PER_METRE = 0.1;

export interface LapSimState {
  xM: number;
  yM: number;
  headingRad: number;
  speedMs: number;
  segment: number;
  arcLengthM: number;
  lateralOffsetM: number;
  progressM: number;
  steps: number;
}

export type LapSimOutcome = 'running' | 'off_track' | 'lap_complete' | 'time_limit';

export const lapSimTrack: Track = buildClosedTrack(CIRCUIT_CONTROL_POINTS, 6, 12);

export class LapSimEnvironment implements ContinuousEnvironment {
  readonly id = LAPSIM_ENVIRONMENT_ID;
  readonly observationSize = LAPSIM_OBSERVATION_SIZE;
  readonly actionKind = 'continuous' as const;
  /** [steering (-1 right .. +1 left), pedal (-1 full brake .. +1 full throttle)] */
  readonly actionSize = 2;
  private current: LapSimState | undefined;
  private lastOutcome: LapSimOutcome = 'running';

  constructor(readonly track: Track = lapSimTrack) {}

  get state(): Readonly<LapSimState> | undefined {
    return this.current;
  }

  get outcome(): LapSimOutcome {
    return this.lastOutcome;
  }

  /** Starts anywhere on the lap, slightly off the line, so the policy sees every corner. */
  reset(seed: number): Float64Array {
    const random = createSeededRandom(seed);
    const startArcLengthM = uniformBetween(random, 0, this.track.lengthM);
    const centre = pointAtArcLength(this.track, startArcLengthM);
    const lateralOffsetM = uniformBetween(random, -1, 1);
    const xM = centre.x - Math.sin(centre.headingRad) * lateralOffsetM;
    const yM = centre.y + Math.cos(centre.headingRad) * lateralOffsetM;
    const position = projectOntoTrack(this.track, xM, yM);
    this.current = {
      xM,
      yM,
      headingRad: centre.headingRad + uniformBetween(random, -0.1, 0.1),
      speedMs: uniformBetween(random, 8, 12),
      segment: position.segment,
      arcLengthM: position.arcLengthM,
      lateralOffsetM: position.lateralOffsetM,
      progressM: 0,
      steps: 0,
    };
    this.lastOutcome = 'running';
    return this.observe(this.current, position.headingRad);
  }

  step(action: Float64Array): StepResult {
    const state = this.current;
    if (!state || this.lastOutcome !== 'running') throw new Error('LapSim-v1: call reset before step');
    advanceCar(state, clampUnit(action[0] ?? 0), clampUnit(action[1] ?? 0));
    const position = projectOntoTrack(this.track, state.xM, state.yM, state.segment);
    const progressM = arcLengthDelta(this.track, state.arcLengthM, position.arcLengthM);
    state.segment = position.segment;
    state.arcLengthM = position.arcLengthM;
    state.lateralOffsetM = position.lateralOffsetM;
    state.progressM += progressM;
    state.steps += 1;

    if (Math.abs(position.lateralOffsetM) > this.track.halfWidthM) this.lastOutcome = 'off_track';
    else if (state.progressM >= this.track.lengthM) this.lastOutcome = 'lap_complete';
    else if (state.steps >= LAPSIM_CAR.maxEpisodeSteps) this.lastOutcome = 'time_limit';
    return {
      observation: this.observe(state, position.headingRad),
      reward: progressM * LAPSIM_REWARD_PER_METRE,
      done: this.lastOutcome !== 'running',
      truncated: this.lastOutcome === 'time_limit',
    };
  }

  private observe(state: LapSimState, trackHeadingRad: number): Float64Array {
    const observation = new Float64Array(LAPSIM_OBSERVATION_SIZE);
    const headingErrorRad = wrapAngle(state.headingRad - trackHeadingRad);
    observation[0] = state.speedMs / SPEED_SCALE_MS;
    observation[1] = state.lateralOffsetM / this.track.halfWidthM;
    observation[2] = Math.sin(headingErrorRad);
    observation[3] = Math.cos(headingErrorRad);
    // Centreline points ahead, in the car's frame: what a driver sees of the coming corners.
    const cos = Math.cos(state.headingRad);
    const sin = Math.sin(state.headingRad);
    LAPSIM_LOOKAHEAD_M.forEach((distanceM, index) => {
      const ahead = pointAtArcLength(this.track, state.arcLengthM + distanceM);
      const dx = ahead.x - state.xM;
      const dy = ahead.y - state.yM;
      observation[4 + 2 * index] = (dx * cos + dy * sin) / LOOKAHEAD_SCALE_M;
      observation[5 + 2 * index] = (-dx * sin + dy * cos) / LOOKAHEAD_SCALE_M;
    });
    return observation;
  }
}

/** One time step of the kinematic bicycle model with a lateral-grip cap on the yaw rate. */
function advanceCar(state: LapSimState, steering: number, pedal: number): void {
  const car = LAPSIM_CAR;
  const dt = car.timeStepS;
  const longitudinal = pedal >= 0 ? pedal * car.maxAccelerationMs2 : pedal * car.maxBrakingMs2;
  const acceleration = longitudinal - car.dragPerSpeedSq * state.speedMs * state.speedMs;
  state.speedMs = Math.max(0, state.speedMs + acceleration * dt);

  const steeringRad = steering * car.maxSteeringRad;
  const slipRad = Math.atan((car.rearAxleToCentreM / car.wheelbaseM) * Math.tan(steeringRad));
  let yawRate = (state.speedMs * Math.cos(slipRad) * Math.tan(steeringRad)) / car.wheelbaseM;
  const maxYawRate = car.maxLateralAccelerationMs2 / Math.max(state.speedMs, 1e-3);
  if (Math.abs(yawRate) > maxYawRate) yawRate = Math.sign(yawRate) * maxYawRate;

  state.xM += state.speedMs * Math.cos(state.headingRad + slipRad) * dt;
  state.yM += state.speedMs * Math.sin(state.headingRad + slipRad) * dt;
  state.headingRad = wrapAngle(state.headingRad + yawRate * dt);
}
