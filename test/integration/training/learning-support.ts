import { trainerJobSpecSchema, type TrainerJobSpecInput } from '../../../src/domain/training/trainer-protocol';
import { createTrainingEnvironment } from '../../../src/domain/training/training-environments';
import { evaluatePolicy, randomPolicy } from '../../../src/ml/evaluation';
import { loadPolicy } from '../../../src/ml/policy-artifact';
import { runTrainingJob } from '../../../src/ml/run-training-job';

export interface LearningMeasurement {
  trainedMeanReturn: number;
  randomMeanReturn: number;
  trainedReturns: number[];
  seconds: number;
}

/**
 * Trains through the same path as the trainer process, then evaluates the saved (serialised and
 * reloaded) deterministic policy and a uniformly random policy on the same evaluation episodes.
 */
export async function trainAndCompareWithRandom(input: Omit<TrainerJobSpecInput, 'artifact_dir' | 'job_id'>): Promise<LearningMeasurement> {
  const spec = trainerJobSpecSchema.parse({ ...input, job_id: 'learning-test', artifact_dir: '/unused' });
  const startedMs = performance.now();
  const outcome = await runTrainingJob(spec, { now: () => performance.now(), shouldStop: () => false, onProgress: () => undefined });
  if (outcome.status !== 'completed') throw new Error(`training ended as ${outcome.status}`);
  const seconds = (performance.now() - startedMs) / 1000;
  const environment = createTrainingEnvironment(spec.environment, spec.environment_options);
  const reloaded = loadPolicy(JSON.parse(JSON.stringify(outcome.artifact)));
  const trained = evaluatePolicy(environment, reloaded, spec.evaluation_episodes, spec.seed);
  const random = evaluatePolicy(environment, randomPolicy(environment, spec.seed), spec.evaluation_episodes, spec.seed);
  expect(trained.meanReturn).toBe(outcome.meanReturn);
  return { trainedMeanReturn: trained.meanReturn, randomMeanReturn: random.meanReturn, trainedReturns: trained.returns, seconds };
}

export function report(name: string, measurement: LearningMeasurement): void {
  process.stdout.write(
    `${name}: trained mean return ${measurement.trainedMeanReturn.toFixed(2)} ` +
      `(episodes ${measurement.trainedReturns.map((value) => value.toFixed(1)).join(', ')}), ` +
      `random ${measurement.randomMeanReturn.toFixed(2)}, training ${measurement.seconds.toFixed(1)} s\n`,
  );
}
