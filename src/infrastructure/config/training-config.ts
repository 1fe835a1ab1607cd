import { z } from 'zod';
import { DEFAULT_RUNNER_ENVIRONMENTS, externalTrainersSchema, runnerEnvironmentsSchema } from '../../domain/training/catalog';

/** A variable holding JSON, parsed and then checked by `schema`; `shape` is shown when it is not JSON. */
function jsonVariable<Output>(schema: z.ZodType<Output>, shape: string) {
  return z
    .string()
    .trim()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: `must be JSON: ${shape}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/**
 * TRAINING_EXTERNAL_TRAINERS: JSON, environment id -> `{ "command": [argv...], "algorithms": [...] }`
 * (docs/training.md, External trainers). Checked at start-up like every other variable.
 */
export const externalTrainersVariable = jsonVariable(externalTrainersSchema, '{"<environment>": {"command": [...], "algorithms": [...]}}');

/**
 * TRAINING_RUNNER_ENVIRONMENTS: JSON, environment id -> algorithms served by trainer runners
 * (`arena runner`); jobs for them wait `pending` until a runner claims them. `{}` turns it off.
 */
export const runnerEnvironmentsVariable = jsonVariable(runnerEnvironmentsSchema, '{"<environment>": ["<algorithm>", ...]}').default(
  DEFAULT_RUNNER_ENVIRONMENTS,
);
