import type { PostgresProjection } from '../postgres-projection';
import { trainingJobsProjection } from './training-jobs-projection';
import { trainingMetricsProjection } from './training-metrics-projection';

/** The training read models; `arena replay training` rebuilds both. */
export const trainingProjections: PostgresProjection[] = [trainingJobsProjection, trainingMetricsProjection];
export const trainingProjectionNames = trainingProjections.map((projection) => projection.name);
