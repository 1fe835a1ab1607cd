/**
 * Turns a trained discrete policy (a DQN pong artefact) into the files of an arena agent
 * submission: agent.py (stdlib-only Python, runs under runtime/python/arena_runner.py),
 * requirements.txt (empty) and policy.json (the artefact itself). Zip these and submit them as
 * the agent's code. The Python forward pass adds in the same order as the TypeScript one, so it
 * picks exactly the same actions.
 */
import { parsePolicyArtifact, type PolicyArtifact } from './policy-artifact';

export const POLICY_AGENT_FILE_NAMES = ['agent.py', 'requirements.txt', 'policy.json'] as const;
export type PolicyAgentFiles = Record<(typeof POLICY_AGENT_FILE_NAMES)[number], string>;

/** Accepts the artefact as JSON text or parsed; only discrete (argmax over Q-values) policies fit the arena. */
export function policyAgentFiles(input: unknown): PolicyAgentFiles {
  const artifact: PolicyArtifact = parsePolicyArtifact(input);
  if (artifact.action.kind !== 'discrete') {
    throw new Error(`only discrete policies can enter the arena; ${artifact.environment} has continuous actions`);
  }
  return { 'agent.py': AGENT_SOURCE, 'requirements.txt': '', 'policy.json': JSON.stringify(artifact) };
}

const AGENT_SOURCE = `"""Arena agent generated from a LapXcel policy artefact (policy.json next to this file).

The network is an MLP: ReLU hidden layers, linear outputs (one Q-value per action); the action
is the index of the largest output. Parameters are float64, little-endian, base64: per layer the
weights row-major [outputs][inputs], then the biases. Pure Python, no dependencies.
"""
import base64
import json
import os
import struct


def _load_layers(path):
    with open(path, "r", encoding="utf-8") as handle:
        artifact = json.load(handle)
    sizes = artifact["network"]["layer_sizes"]
    raw = base64.b64decode(artifact["network"]["parameters_base64"])
    values = struct.unpack("<%dd" % (len(raw) // 8), raw)
    layers, offset = [], 0
    for inputs, outputs in zip(sizes[:-1], sizes[1:]):
        weights = [values[offset + j * inputs: offset + (j + 1) * inputs] for j in range(outputs)]
        offset += inputs * outputs
        biases = values[offset: offset + outputs]
        offset += outputs
        layers.append((weights, biases))
    if offset != len(values):
        raise ValueError("policy.json parameters do not match its layer sizes")
    return artifact["observation_size"], layers


class Agent:
    def __init__(self, observation_space, action_space):
        here = os.path.dirname(os.path.abspath(__file__))
        self.observation_size, self.layers = _load_layers(os.path.join(here, "policy.json"))

    def act(self, observation):
        if len(observation) != self.observation_size:
            raise ValueError("expected %d observation values, got %d" % (self.observation_size, len(observation)))
        values = [float(v) for v in observation]
        last = len(self.layers) - 1
        for index, (weights, biases) in enumerate(self.layers):
            outputs = []
            for row, bias in zip(weights, biases):
                total = bias
                for w, x in zip(row, values):
                    total += x * w
                outputs.append(total if index == last or total > 0 else 0.0)
            values = outputs
        best = 0
        for action in range(1, len(values)):
            if values[action] > values[best]:
                best = action
        return best
`;
