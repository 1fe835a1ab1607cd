/**
 * The trained policy as a self-contained JSON document: enough to act without this codebase
 * (the network's layer sizes and float64 parameters), plus where it came from. docs/training.md
 * documents the format; policy-agent.ts turns a pong policy into an arena agent.
 */
import { z } from 'zod';
import { argmaxRow } from './dqn';
import type { PolicyFunction } from './evaluation';
import { Mlp } from './mlp';

export const POLICY_ARTIFACT_FORMAT = 'lapxcel-policy';

const networkSchema = z.strictObject({
  /** [observation size, hidden..., outputs]; ReLU after each hidden layer, linear output. */
  layer_sizes: z.array(z.number().int().min(1)).min(2),
  hidden_activation: z.literal('relu'),
  /**
   * Per layer: weights row-major [outputs][inputs], then biases [outputs]; all layers in order,
   * as little-endian IEEE-754 float64, base64-encoded.
   */
  parameters_base64: z.string(),
});

export const policyArtifactSchema = z.strictObject({
  format: z.literal(POLICY_ARTIFACT_FORMAT),
  version: z.literal(1),
  algorithm: z.string(),
  environment: z.string(),
  observation_size: z.number().int().min(1),
  /**
   * tanh_gaussian: outputs are [means..., raw log-stds...]; the deterministic action is tanh(mean).
   * q_values: one output per action; the action is the index of the largest.
   */
  action: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('continuous'), size: z.number().int().min(1), head: z.literal('tanh_gaussian') }),
    z.strictObject({ kind: z.literal('discrete'), count: z.number().int().min(1), head: z.literal('q_values') }),
  ]),
  network: networkSchema,
  training: z.strictObject({
    job_id: z.string(),
    seed: z.number().int(),
    total_timesteps: z.number().int(),
    trained_timesteps: z.number().int(),
    hyperparameters: z.record(z.string(), z.unknown()),
    environment_options: z.record(z.string(), z.number()),
    evaluation: z.strictObject({ episodes: z.number().int(), mean_return: z.number() }).nullable(),
  }),
});
export type PolicyArtifact = z.infer<typeof policyArtifactSchema>;

export function encodeParameters(parameters: Float64Array): string {
  const bytes = Buffer.alloc(parameters.length * 8);
  parameters.forEach((value, index) => bytes.writeDoubleLE(value, index * 8));
  return bytes.toString('base64');
}

export function decodeParameters(base64: string): Float64Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length % 8 !== 0) throw new Error('policy parameters are not a whole number of float64 values');
  const parameters = new Float64Array(bytes.length / 8);
  for (let index = 0; index < parameters.length; index++) parameters[index] = bytes.readDoubleLE(index * 8);
  return parameters;
}

export const describeNetwork = (network: Mlp): PolicyArtifact['network'] => ({
  layer_sizes: [...network.layerSizes],
  hidden_activation: 'relu',
  parameters_base64: encodeParameters(network.parameters),
});

/** Validates an artefact (parsed JSON or text) and rebuilds its network. */
export function parsePolicyArtifact(input: unknown): PolicyArtifact {
  const parsed = policyArtifactSchema.parse(typeof input === 'string' ? JSON.parse(input) : input);
  const sizes = parsed.network.layer_sizes;
  const outputs = sizes[sizes.length - 1];
  const expectedOutputs = parsed.action.kind === 'continuous' ? 2 * parsed.action.size : parsed.action.count;
  if (sizes[0] !== parsed.observation_size || outputs !== expectedOutputs) {
    throw new Error(`policy network ${sizes.join('x')} does not fit ${parsed.observation_size} observations and its action head`);
  }
  return parsed;
}

/** A deterministic policy from an artefact: the same observation always gives the same action. */
export function loadPolicy(input: unknown): PolicyFunction {
  const artifact = parsePolicyArtifact(input);
  const network = new Mlp(artifact.network.layer_sizes, decodeParameters(artifact.network.parameters_base64));
  const action = artifact.action;
  const forward = (observation: Float64Array): Float64Array => {
    if (observation.length !== artifact.observation_size) {
      throw new Error(`expected ${artifact.observation_size} observation values, got ${observation.length}`);
    }
    return network.forward(observation, 1);
  };
  if (action.kind === 'continuous') {
    return {
      kind: 'continuous',
      act: (observation) => {
        const output = forward(observation);
        return Float64Array.from({ length: action.size }, (_, k) => Math.tanh(output[k]!));
      },
    };
  }
  return { kind: 'discrete', act: (observation) => argmaxRow(forward(observation), 0, action.count) };
}
