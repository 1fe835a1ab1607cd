/**
 * Builds a built-in training environment from its id and options. Options are small numeric
 * settings a job may pass (e.g. a shorter pong game); unknown options are an error.
 */
import { z } from 'zod';
import { ValidationError } from '../shared/errors';
import { LAPSIM_ENVIRONMENT_ID, LapSimEnvironment } from './lapsim-env';
import { PONG_TRAINING_DEFAULTS, PONG_TRAINING_ENVIRONMENT_ID, PongTrainingEnvironment } from './pong-training-env';
import type { TrainingEnvironment } from './training-environment';

export type EnvironmentOptions = Readonly<Record<string, number>>;

const lapSimOptionsSchema = z.strictObject({});

const pongOptionsSchema = z.strictObject({
  target_score: z.number().int().min(1).max(21).default(PONG_TRAINING_DEFAULTS.targetScore),
  max_steps: z.number().int().min(100).max(1_000_000).default(PONG_TRAINING_DEFAULTS.maxSteps),
  opponent_speed_fraction: z.number().gt(0).lte(1).default(PONG_TRAINING_DEFAULTS.opponentSpeedFraction),
});

export function createTrainingEnvironment(id: string, options: EnvironmentOptions = {}): TrainingEnvironment {
  switch (id) {
    case LAPSIM_ENVIRONMENT_ID:
      parseOptions(id, lapSimOptionsSchema, options);
      return new LapSimEnvironment();
    case PONG_TRAINING_ENVIRONMENT_ID: {
      const pong = parseOptions(id, pongOptionsSchema, options);
      return new PongTrainingEnvironment({
        targetScore: pong.target_score,
        maxSteps: pong.max_steps,
        opponentSpeedFraction: pong.opponent_speed_fraction,
      });
    }
    default:
      throw new ValidationError(`no built-in training environment "${id}"; built-in: ${LAPSIM_ENVIRONMENT_ID}, ${PONG_TRAINING_ENVIRONMENT_ID}`, {
        environment: id,
      });
  }
}

function parseOptions<Output>(id: string, schema: z.ZodType<Output>, options: EnvironmentOptions): Output {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  throw new ValidationError(`invalid options for ${id}: ${z.prettifyError(parsed.error)}`, {
    environment: id,
    issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}
