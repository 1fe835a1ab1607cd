/**
 * The line-delimited JSON protocol between the match runner and runtime/python/arena_runner.py
 * (docs/agent-protocol.md). Every line an agent sends is parsed with these schemas: whatever an
 * agent process writes is untrusted input.
 */
import { z } from 'zod';
import type { Space } from '../../domain/arena/environments/environment';

export const AGENT_PROTOCOL_VERSION = 1;

export interface InitMessage {
  readonly type: 'init';
  readonly protocol_version: typeof AGENT_PROTOCOL_VERSION;
  readonly environment: string;
  readonly player: 0 | 1;
  /** Seeds the agent's `random` module so agents that use it replay identically. */
  readonly seed: number;
  readonly observation_space: Space;
  readonly action_space: Space;
}

export interface StepMessage {
  readonly type: 'step';
  readonly step: number;
  readonly observation: readonly number[];
}

export interface CloseMessage {
  readonly type: 'close';
}

export type HostMessage = InitMessage | StepMessage | CloseMessage;

/** A JSON value of bounded shape: actions are numbers or short arrays of numbers, anything else is judged later. */
const actionValue = z.union([z.number(), z.array(z.unknown()).max(1024), z.string().max(256), z.boolean(), z.null(), z.record(z.string(), z.unknown())]);

export const agentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), agent_class: z.string().max(200).optional() }).strict(),
  z.object({ type: z.literal('action'), step: z.number().int().nonnegative(), action: actionValue }).strict(),
  z
    .object({
      type: z.literal('error'),
      phase: z.enum(['init', 'act', 'action', 'protocol']),
      message: z.string().max(10_000),
    })
    .strict(),
]);

export type AgentMessage = z.infer<typeof agentMessageSchema>;

export type ParsedAgentLine = { readonly ok: true; readonly message: AgentMessage } | { readonly ok: false; readonly problem: string };

/** The line of a step message, byte for byte what JSON.stringify({ type, step, observation }) writes. */
export function stepLine(step: number, observation: readonly number[]): string {
  return `{"type":"step","step":${step},"observation":${JSON.stringify(observation)}}`;
}

const ACTION_KEYS = 3;

/**
 * The answer of almost every step, `{"type":"action","step":N,"action":<number>}`, recognised
 * without zod; it accepts exactly what the schema accepts for that shape. Anything else (other
 * actions, other messages, extra keys) goes through the schema.
 */
function plainNumericAction(json: unknown): AgentMessage | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const candidate = json as { type?: unknown; step?: unknown; action?: unknown };
  if (candidate.type !== 'action') return null;
  const { step, action } = candidate;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) return null;
  if (typeof action !== 'number' || !Number.isFinite(action)) return null;
  let keys = 0;
  for (const key in json) {
    if (!Object.prototype.hasOwnProperty.call(json, key)) continue;
    if (key !== 'type' && key !== 'step' && key !== 'action') return null;
    keys += 1;
  }
  return keys === ACTION_KEYS ? { type: 'action', step, action } : null;
}

export function parseAgentLine(line: string): ParsedAgentLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, problem: `not JSON: ${JSON.stringify(line.slice(0, 120))}` };
  }
  const action = plainNumericAction(json);
  if (action !== null) return { ok: true, message: action };
  const parsed = agentMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: `not a protocol message (${issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid'}): ${JSON.stringify(line.slice(0, 120))}` };
  }
  return { ok: true, message: parsed.data };
}
