/**
 * Version 2 of the agent protocol with real processes: the host's message channel
 * (SandboxedProcess) cutting action frames and lines out of whatever chunks the pipe delivers,
 * and runtime/python/arena_runner.py decoding step frames and answering with frames or lines.
 * Plain python3 processes: the sandbox around them is tested by the other suites here.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AGENT_PROTOCOL_VERSION, stepFrameBytes, writeStepFrame } from '../../../src/infrastructure/sandbox/agent-protocol';
import { SandboxedProcess, type LineResult } from '../../../src/infrastructure/sandbox/sandboxed-process';
import { describeWithEngine } from '../../support/engines';

const PYTHON = '/usr/bin/python3';
const RUNNER = resolve(__dirname, '..', '..', '..', 'runtime', 'python', 'arena_runner.py');
const CAPS = { maxStdoutBytes: 1024 * 1024, maxStderrBytes: 1024 * 1024, maxMessageBytes: 64 * 1024, keepStderrBytes: 64 * 1024 };
const DEADLINE_MS = 10_000;

const describePython = describeWithEngine('python', existsSync(PYTHON), `${PYTHON} not found`);

const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function python(code: string, args: string[] = []): SandboxedProcess {
  return new SandboxedProcess({ command: PYTHON, args: ['-I', '-B', '-u', '-c', code, ...args], cwd: tmpdir() }, CAPS);
}

async function messages(channel: SandboxedProcess, count: number): Promise<LineResult[]> {
  const received: LineResult[] = [];
  for (let index = 0; index < count; index += 1) received.push(await channel.nextLine(DEADLINE_MS));
  return received;
}

const frame = (step: number, action: number): LineResult => ({ kind: 'frame', message: { type: 'action', step, action } });
const line = (text: string): LineResult => ({ kind: 'line', line: text });

describePython('agent protocol v2 with real processes', () => {
  it('cuts frames and lines out of any chunking: together, byte by byte, a line ending before a frame', async () => {
    // Each os.write is one chunk for the host; the sleeps keep them apart.
    const channel = python(`
import os, struct, time
def frame(step, action): return struct.pack("<BIi", 2, step, action)
out = lambda data: (os.write(1, data), time.sleep(0.05))
out(frame(1, 2) + b'{"type":"ready"}\\n' + frame(2, -3))
for byte in frame(3, 2**31 - 1):
    out(bytes([byte]))
out(b'{"type":"act')
out(b'ion","step":4,"action":1}\\n' + frame(5, 0)[:4])
out(frame(5, 0)[4:] + b'\\n')
`);
    try {
      expect(await messages(channel, 7)).toEqual([
        frame(1, 2),
        line('{"type":"ready"}'),
        frame(2, -3),
        frame(3, 2 ** 31 - 1),
        line('{"type":"action","step":4,"action":1}'),
        frame(5, 0),
        line(''),
      ]);
    } finally {
      await channel.kill();
    }
  });

  it('reports a write as pending while the process has not read it (the step buffer is reused only after)', async () => {
    const channel = python(`
import os, time
time.sleep(0.3)
total = 0
while total < 4 * 1024 * 1024:
    total += len(os.read(0, 1 << 20))
os.write(1, b"read all\\n")
`);
    try {
      channel.sendBytes(Buffer.alloc(4 * 1024 * 1024, 7));
      expect(channel.writePending).toBe(true);
      expect(await channel.nextLine(DEADLINE_MS)).toEqual(line('read all'));
      expect(channel.writePending).toBe(false);
    } finally {
      await channel.kill();
    }
  });

  it('an answer that arrived while this process was stalled past the deadline is taken, not timed out', async () => {
    // The event loop runs due timers before it reads; the answer is already in the pipe by then.
    const channel = python(`
import os
while True:
    data = os.read(0, 65536)
    if not data:
        break
    os.write(1, b"pong\\n")
`);
    try {
      channel.send('ping');
      expect(await channel.nextLine(DEADLINE_MS)).toEqual(line('pong')); // started and answering
      const answer = channel.nextLine(100);
      channel.send('ping');
      const stalledUntil = Date.now() + 400; // the answer comes within this; the deadline passes in it
      while (Date.now() < stalledUntil) {
        // a stall of this process: a long GC, or the machine busy elsewhere
      }
      expect(await answer).toEqual(line('pong'));
      // An agent that does not answer still times out.
      expect(await channel.nextLine(100)).toEqual({ kind: 'timeout' });
    } finally {
      await channel.kill();
    }
  });

  it('still fails a line longer than the message limit, even cut across chunks', async () => {
    const channel = python(`
import os, time
os.write(1, b"x" * 40000)
time.sleep(0.05)
os.write(1, b"x" * 40000 + b"\\n")
time.sleep(5)
`);
    try {
      expect(await channel.nextLine(DEADLINE_MS)).toEqual({ kind: 'failed', failure: { kind: 'message_too_long', limitBytes: CAPS.maxMessageBytes } });
    } finally {
      await channel.kill();
    }
  });

  it('the runner decodes step frames to lists of floats and answers int actions with frames, anything else with JSON lines', async () => {
    const agentDir = mkdtempSync(join(tmpdir(), 'arena-frames-agent-'));
    scratch.push(agentDir);
    writeFileSync(
      join(agentDir, 'agent.py'),
      `
class Scalar:
    """Like a numpy integer: converts itself with tolist()."""
    def __init__(self, value):
        self.value = value

    def tolist(self):
        return self.value


class Agent:
    def __init__(self, observation_space, action_space):
        pass

    def act(self, observation):
        kind = observation[0]
        if kind == 1:
            # every value a float (JSON would have made 1 an int), the length as given
            return 100 * len(observation) + sum(1 for value in observation if type(value) is float)
        if kind == 2:
            return observation[1:]
        if kind == 3:
            return Scalar(-5)
        if kind == 4:
            return True
        return 2 ** 40
`,
    );
    const runner = new SandboxedProcess({ command: PYTHON, args: ['-I', '-B', '-u', RUNNER, agentDir], cwd: agentDir }, CAPS);
    const sendStep = (step: number, observation: number[]): void => {
      const bytes = Buffer.alloc(stepFrameBytes(observation.length));
      writeStepFrame(bytes, step, observation);
      runner.sendBytes(bytes);
    };
    try {
      runner.send(JSON.stringify({ type: 'init', protocol_version: AGENT_PROTOCOL_VERSION, environment: 'pong', player: 0, seed: 1, observation_space: {}, action_space: {} }));
      expect(await runner.nextLine(DEADLINE_MS)).toEqual(line('{"type":"ready","agent_class":"Agent"}'));

      sendStep(0, [1, 2, 3, 4]);
      expect(await runner.nextLine(DEADLINE_MS)).toEqual(frame(0, 404));

      const exact = [0.1, 1e-300, -123456.789, 2 ** 53 + 2, 5e-324];
      sendStep(70_000, [2, ...exact]);
      const answer = await runner.nextLine(DEADLINE_MS);
      expect(answer.kind).toBe('line');
      expect(JSON.parse(answer.kind === 'line' ? answer.line : 'null')).toEqual({ type: 'action', step: 70_000, action: exact });

      sendStep(2, [3]);
      expect(await runner.nextLine(DEADLINE_MS)).toEqual(frame(2, -5));
      sendStep(3, [4]);
      expect(await runner.nextLine(DEADLINE_MS)).toEqual(line('{"type":"action","step":3,"action":true}'));
      sendStep(4, [5]);
      expect(await runner.nextLine(DEADLINE_MS)).toEqual(line(`{"type":"action","step":4,"action":${2 ** 40}}`));

      // A frame cut short by the host is a protocol error, not a hang or a crash.
      runner.sendBytes(Buffer.from([1, 3, 0, 0, 0, 6, 0, 0, 0]));
      runner.endInput();
      const error = await runner.nextLine(DEADLINE_MS);
      expect(error.kind === 'line' && JSON.parse(error.line)).toEqual({ type: 'error', phase: 'protocol', message: 'host sent a step frame cut short' });
    } finally {
      await runner.kill();
    }
  });

  it('the runner reads host messages however the pipe cuts them: frames byte by byte, several in one write, a line longer than its buffer', async () => {
    const agentDir = mkdtempSync(join(tmpdir(), 'arena-inbox-agent-'));
    scratch.push(agentDir);
    // Answers the observation's length and its first value, so a misread frame shows.
    writeFileSync(join(agentDir, 'agent.py'), 'class Agent:\n    def act(self, observation):\n        return 1000 * len(observation) + int(observation[0])\n');
    const runner = new SandboxedProcess({ command: PYTHON, args: ['-I', '-B', '-u', RUNNER, agentDir], cwd: agentDir }, CAPS);
    const stepBytes = (step: number, observation: number[]): Buffer => {
      const bytes = Buffer.alloc(stepFrameBytes(observation.length));
      writeStepFrame(bytes, step, observation);
      return bytes;
    };
    const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
    try {
      runner.send(JSON.stringify({ type: 'init', protocol_version: AGENT_PROTOCOL_VERSION, environment: 'pong', player: 0, seed: 1, observation_space: {}, action_space: {} }));
      expect(await runner.nextLine(DEADLINE_MS)).toEqual(line('{"type":"ready","agent_class":"Agent"}'));

      // One frame, a byte per write: the runner waits for the rest of the header, then of the values.
      for (const byte of stepBytes(0, [7, 0.5, 0.25])) {
        runner.sendBytes(Buffer.from([byte]));
        await pause();
      }
      expect(await runner.nextLine(DEADLINE_MS)).toEqual(frame(0, 3007));

      // Three frames and a version-1 step line in one write: answered in order (an int action as a frame, in version 2).
      runner.sendBytes(Buffer.concat([stepBytes(1, [1]), stepBytes(2, [2, 2]), Buffer.from(`${JSON.stringify({ type: 'step', step: 3, observation: [3, 3, 3] })}\n`), stepBytes(4, [4, 4, 4, 4])]));
      expect(await messages(runner, 4)).toEqual([frame(1, 1001), frame(2, 2002), frame(3, 3003), frame(4, 4004)]);

      // A version-1 step line of 12 000 values (over 64 KiB, the runner's buffer) cut across writes, then a frame.
      const long = Buffer.from(`${JSON.stringify({ type: 'step', step: 5, observation: Array.from({ length: 12_000 }, (_, index) => (index === 0 ? 9 : 0.123456789)) })}\n`);
      expect(long.length).toBeGreaterThan(64 * 1024);
      runner.sendBytes(long.subarray(0, 50_000));
      await pause();
      runner.sendBytes(Buffer.concat([long.subarray(50_000), stepBytes(6, [6])]));
      expect(await messages(runner, 2)).toEqual([frame(5, 12_000_009), frame(6, 1006)]);
    } finally {
      await runner.kill();
    }
  });
});
