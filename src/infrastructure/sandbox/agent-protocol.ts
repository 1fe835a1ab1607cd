/**
 * The protocol between the match runner and runtime/python/arena_runner.py (docs/agent-protocol.md):
 * JSON lines for everything but the steps, and in version 2 a compact binary frame for each step
 * and for each integer action. Every message an agent sends is checked here (schemas for lines,
 * range checks for frames): whatever an agent process writes is untrusted input.
 */
import { z } from 'zod';
import type { Space } from '../../domain/arena/environments/environment';

/**
 * Version 2: steps travel as binary frames (`STEP_FRAME_TAG`) and integer actions come back as
 * binary frames (`ACTION_FRAME_TAG`). The runner still speaks version 1 (JSON step lines and
 * answers) to a host that asks for it.
 */
export const AGENT_PROTOCOL_VERSION = 2;

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

/**
 * Host -> runner step frame, little-endian: tag (1 byte), step (uint32), observation length n
 * (uint16), n float64 values. A JSON line never starts with this byte.
 */
export const STEP_FRAME_TAG = 0x01;
const STEP_FRAME_HEADER_BYTES = 1 + 4 + 2;
const MAX_FRAME_STEP = 0xffff_ffff;
const MAX_FRAME_OBSERVATION = 0xffff;

/**
 * Runner -> host action frame, little-endian: tag (1 byte), step (uint32), action (int32): the
 * answer of a discrete agent. Other actions (lists, floats, large integers) come back as JSON lines.
 */
export const ACTION_FRAME_TAG = 0x02;
export const ACTION_FRAME_BYTES = 1 + 4 + 4;

export function stepFrameBytes(observationLength: number): number {
  return STEP_FRAME_HEADER_BYTES + 8 * observationLength;
}

/**
 * Writes the step frame into `target` (at least `stepFrameBytes(observation.length)` long) and
 * returns its length. Values are the observation's float64s as they are: nothing is formatted.
 */
export function writeStepFrame(target: Buffer, step: number, observation: readonly number[]): number {
  if (!Number.isInteger(step) || step < 0 || step > MAX_FRAME_STEP) throw new RangeError(`step ${step} does not fit a step frame`);
  if (observation.length > MAX_FRAME_OBSERVATION) throw new RangeError(`an observation of ${observation.length} values does not fit a step frame`);
  target[0] = STEP_FRAME_TAG;
  target.writeUInt32LE(step, 1);
  target.writeUInt16LE(observation.length, 5);
  let offset = STEP_FRAME_HEADER_BYTES;
  for (let index = 0; index < observation.length; index += 1) {
    target.writeDoubleLE(observation[index]!, offset);
    offset += 8;
  }
  return offset;
}

/** The action frame at `offset` of `source` (which holds at least `ACTION_FRAME_BYTES` from there), as a protocol message. */
export function readActionFrame(source: Buffer, offset: number): AgentMessage {
  return { type: 'action', step: source.readUInt32LE(offset + 1), action: source.readInt32LE(offset + 5) };
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
