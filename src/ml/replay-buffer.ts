/**
 * A fixed-capacity ring buffer of transitions for off-policy learners (SAC, DQN). Stored as
 * Float32Array to halve the memory of large buffers; sampled minibatches come out as Float64Array.
 */
import { randomInteger, type RandomSource } from '../domain/training/seeded-random';

export interface TransitionBatch {
  size: number;
  observations: Float64Array;
  actions: Float64Array;
  rewards: Float64Array;
  nextObservations: Float64Array;
  /** 1 where the next state is terminal (no bootstrapping), 0 otherwise, including time-limit cuts. */
  terminals: Float64Array;
}

export function allocateBatch(size: number, observationSize: number, actionSize: number): TransitionBatch {
  return {
    size,
    observations: new Float64Array(size * observationSize),
    actions: new Float64Array(size * actionSize),
    rewards: new Float64Array(size),
    nextObservations: new Float64Array(size * observationSize),
    terminals: new Float64Array(size),
  };
}

export class ReplayBuffer {
  private readonly observations: Float32Array;
  private readonly actions: Float32Array;
  private readonly rewards: Float32Array;
  private readonly nextObservations: Float32Array;
  private readonly terminals: Uint8Array;
  private nextIndex = 0;
  private stored = 0;

  constructor(
    readonly capacity: number,
    readonly observationSize: number,
    readonly actionSize: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`invalid replay capacity ${capacity}`);
    this.observations = new Float32Array(capacity * observationSize);
    this.actions = new Float32Array(capacity * actionSize);
    this.rewards = new Float32Array(capacity);
    this.nextObservations = new Float32Array(capacity * observationSize);
    this.terminals = new Uint8Array(capacity);
  }

  get size(): number {
    return this.stored;
  }

  /** Adds a transition, overwriting the oldest one once the buffer is full. */
  add(observation: Float64Array, action: ArrayLike<number>, reward: number, nextObservation: Float64Array, terminal: boolean): void {
    const index = this.nextIndex;
    this.observations.set(observation, index * this.observationSize);
    for (let k = 0; k < this.actionSize; k++) this.actions[index * this.actionSize + k] = action[k]!;
    this.rewards[index] = reward;
    this.nextObservations.set(nextObservation, index * this.observationSize);
    this.terminals[index] = terminal ? 1 : 0;
    this.nextIndex = (index + 1) % this.capacity;
    this.stored = Math.min(this.stored + 1, this.capacity);
  }

  /** Fills `batch` with transitions drawn uniformly with replacement. */
  sampleInto(batch: TransitionBatch, random: RandomSource): void {
    if (this.stored === 0) throw new Error('cannot sample an empty replay buffer');
    for (let row = 0; row < batch.size; row++) this.copyInto(batch, row, randomInteger(random, this.stored));
  }

  /** Copies the transition in storage slot `index` (0 <= index < size; slots wrap around) into a batch row. */
  copyInto(batch: TransitionBatch, row: number, index: number): void {
    const obs = this.observationSize;
    const act = this.actionSize;
    for (let k = 0; k < obs; k++) {
      batch.observations[row * obs + k] = this.observations[index * obs + k]!;
      batch.nextObservations[row * obs + k] = this.nextObservations[index * obs + k]!;
    }
    for (let k = 0; k < act; k++) batch.actions[row * act + k] = this.actions[index * act + k]!;
    batch.rewards[row] = this.rewards[index]!;
    batch.terminals[row] = this.terminals[index]!;
  }
}
