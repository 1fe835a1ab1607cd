import { ACTION_FRAME_BYTES, ACTION_FRAME_TAG, agentMessageSchema, parseAgentLine, readActionFrame, STEP_FRAME_TAG, stepFrameBytes, stepLine, writeStepFrame } from '../../../src/infrastructure/sandbox/agent-protocol';

/** What the schema alone says of a line (the reference the fast path must agree with). */
function bySchema(line: string): { ok: boolean; message?: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false };
  }
  const parsed = agentMessageSchema.safeParse(json);
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false };
}

describe('agent protocol lines', () => {
  it('writes a step line byte for byte as JSON.stringify of the message', () => {
    for (const observation of [[0.5, 0.5, 0.2, -0.1, 0.5, 0.5], [], [1e-7, -0, 123456789.123, 1e21]]) {
      expect(stepLine(17, observation)).toBe(JSON.stringify({ type: 'step', step: 17, observation }));
    }
  });

  it.each([
    '{"type":"action","step":0,"action":1}',
    '{"type":"action","step":12,"action":2.5}',
    '{"action":0,"step":3,"type":"action"}',
    '{"type":"action","step":3,"action":-1e300}',
    '{"type":"action","step":3,"action":1e999}',
    '{"type":"action","step":-1,"action":1}',
    '{"type":"action","step":1.5,"action":1}',
    '{"type":"action","step":1e999,"action":1}',
    '{"type":"action","step":"1","action":1}',
    '{"type":"action","step":1}',
    '{"type":"action","step":1,"action":1,"extra":true}',
    '{"type":"action","step":1,"action":1,"__proto__":{"polluted":1}}',
    '{"type":"action","step":1,"action":[0.1,0.2]}',
    '{"type":"action","step":1,"action":null}',
    '{"type":"action","step":1,"action":"up"}',
    '{"type":"ready","agent_class":"Agent"}',
    '{"type":"ready","step":1,"action":1}',
    '{"type":"error","phase":"act","message":"boom"}',
    '[{"type":"action","step":1,"action":1}]',
    'null',
    '1',
    'not json',
  ])('accepts and rejects %s exactly as the schema does', (line) => {
    const parsed = parseAgentLine(line);
    const reference = bySchema(line);
    expect(parsed.ok).toBe(reference.ok);
    if (parsed.ok) expect(parsed.message).toEqual(reference.message);
  });
});

describe('agent protocol frames (version 2)', () => {
  it('writes a step frame: tag, uint32 step, uint16 length, the float64 values bit for bit', () => {
    const observation = [0.1, -0, 1, 123456789.123, 1e-300, -2.5];
    const frame = Buffer.alloc(stepFrameBytes(observation.length));
    expect(writeStepFrame(frame, 70_000, observation)).toBe(7 + 8 * observation.length);
    expect(frame[0]).toBe(STEP_FRAME_TAG);
    expect(frame.readUInt32LE(1)).toBe(70_000);
    expect(frame.readUInt16LE(5)).toBe(observation.length);
    const decoded = observation.map((_, index) => frame.readDoubleLE(7 + 8 * index));
    decoded.forEach((value, index) => expect(Object.is(value, observation[index])).toBe(true));
  });

  it('refuses a step the frame cannot carry instead of wrapping it', () => {
    const frame = Buffer.alloc(stepFrameBytes(1));
    expect(() => writeStepFrame(frame, 2 ** 32, [0])).toThrow(RangeError);
    expect(() => writeStepFrame(frame, -1, [0])).toThrow(RangeError);
    expect(() => writeStepFrame(frame, 1.5, [0])).toThrow(RangeError);
  });

  it('reads an action frame as the action message the JSON line would have given', () => {
    const frame = Buffer.from([0xff, ACTION_FRAME_TAG, 0, 0, 0, 0, 0, 0, 0, 0]);
    frame.writeUInt32LE(4_000_000_000, 2);
    frame.writeInt32LE(-7, 6);
    expect(ACTION_FRAME_BYTES).toBe(9);
    expect(readActionFrame(frame, 1)).toEqual({ type: 'action', step: 4_000_000_000, action: -7 });
  });
});
