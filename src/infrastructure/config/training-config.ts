import { z } from 'zod';
import { DEFAULT_RUNNER_ENVIRONMENTS, externalTrainersSchema, runnerEnvironmentsSchema } from '../../domain/training/catalog';

/**
 * TRAINING_EXTERNAL_TRAINERS: JSON, environment id -> `{ "command": [argv...], "algorithms": [...] }`
 * (docs/training.md, External trainers). Checked at start-up like every other variable.
 */
export const externalTrainersVariable = z
  .string()
  .trim()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be JSON: {"<environment>": {"command": [...], "algorithms": [...]}}' });
      return z.NEVER;
    }
  })
  .pipe(externalTrainersSchema);

/**
 * TRAINING_RUNNER_ENVIRONMENTS: JSON, environment id -> algorithms served by trainer runners
 * (`arena runner`); jobs for them wait `pending` until a runner claims them. `{}` turns it off.
 */
export const runnerEnvironmentsVariable = z
  .string()
  .trim()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be JSON: {"<environment>": ["<algorithm>", ...]}' });
      return z.NEVER;
    }
  })
  .pipe(runnerEnvironmentsSchema)
  .default(DEFAULT_RUNNER_ENVIRONMENTS);
