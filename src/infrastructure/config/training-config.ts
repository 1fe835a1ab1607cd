import { z } from 'zod';
import { externalTrainersSchema } from '../../domain/training/catalog';

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
