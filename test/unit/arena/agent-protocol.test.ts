import { agentMessageSchema, parseAgentLine, stepLine } from '../../../src/infrastructure/sandbox/agent-protocol';

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
