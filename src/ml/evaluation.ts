/**
 * Mean episode return of a fixed policy, and of a uniformly random one as the baseline a trained
 * policy has to beat. Evaluation episodes use their own seeds, never those seen in training.
 */
import { createSeededRandom, deriveSeed, randomInteger, uniformBetween } from '../domain/training/seeded-random';
import type { StepResult, TrainingEnvironment } from '../domain/training/training-environment';

export type PolicyFunction =
  | { kind: 'continuous'; act(observation: Float64Array): Float64Array }
  | { kind: 'discrete'; act(observation: Float64Array): number };

export interface EvaluationResult {
  meanReturn: number;
  returns: number[];
  meanLength: number;
}

/** Evaluation streams start far above any training episode index, so the seeds do not overlap. */
const EVALUATION_STREAM_OFFSET = 1_000_000_000;

export function evaluatePolicy(environment: TrainingEnvironment, policy: PolicyFunction, episodes: number, seed: number): EvaluationResult {
  const stepWithPolicy = bindPolicy(environment, policy);
  const returns: number[] = [];
  let totalLength = 0;
  for (let episode = 0; episode < episodes; episode++) {
    let observation = environment.reset(deriveSeed(seed, EVALUATION_STREAM_OFFSET + episode));
    let episodeReturn = 0;
    for (;;) {
      const result = stepWithPolicy(observation);
      episodeReturn += result.reward;
      totalLength += 1;
      observation = result.observation;
      if (result.done) break;
    }
    returns.push(episodeReturn);
  }
  const meanReturn = returns.reduce((sum, value) => sum + value, 0) / Math.max(1, returns.length);
  return { meanReturn, returns, meanLength: totalLength / Math.max(1, episodes) };
}

/** One environment step with the policy's action; fails early when the action kinds differ. */
export function bindPolicy(environment: TrainingEnvironment, policy: PolicyFunction): (observation: Float64Array) => StepResult {
  if (environment.actionKind === 'continuous' && policy.kind === 'continuous') return (observation) => environment.step(policy.act(observation));
  if (environment.actionKind === 'discrete' && policy.kind === 'discrete') return (observation) => environment.step(policy.act(observation));
  throw new Error(`a ${policy.kind} policy cannot act in ${environment.id}, whose actions are ${environment.actionKind}`);
}

/** Uniform actions: each continuous component in [-1, 1], or any discrete action with equal odds. */
export function randomPolicy(environment: TrainingEnvironment, seed: number): PolicyFunction {
  const random = createSeededRandom(seed);
  if (environment.actionKind === 'continuous') {
    const size = environment.actionSize;
    return { kind: 'continuous', act: () => Float64Array.from({ length: size }, () => uniformBetween(random, -1, 1)) };
  }
  const count = environment.actionCount;
  return { kind: 'discrete', act: () => randomInteger(random, count) };
}
