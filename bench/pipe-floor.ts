/**
 * The floor under the agent protocol: a bare ping-pong over the same pipes, with the same sandbox,
 * and nothing else. Node writes one short line to each of two python processes started exactly as
 * agents are (bubblewrap, prlimit, dedicated uid), each answers with one short line read and
 * written with plain `os.read`/`os.write`, and node waits for both answers before the next round.
 * No JSON, no environment, no agent, no replay: what is left is the kernel's pipe wake-ups and
 * scheduling, and the delivery mechanism in node. Measured both ways the host can carry it:
 *
 * - `stream`: node's child stdio pipes (socket pairs) on the event loop (libuv, stream 'data'
 *   events), written through the stream: the protocol's mechanism;
 * - `pipes`: an alternative evaluated in round five and not adopted (docs/performance.md,
 *   "Branch i9-proto5"): real pipes (lib/protocol-pipes.ts), each line written with one
 *   `writeSync` (lib/pipe-input.ts), answers read on the event loop as with `stream`;
 * - `blocking`: an alternative evaluated in round four and not adopted (docs/performance.md,
 *   "Branch i9-proto3"): blocking pipes (lib/blocking-pipe.ts), one reader thread per process
 *   (lib/pipe-reader.ts) ringing a doorbell (lib/doorbell.ts) the waiting thread sleeps on.
 *
 * `bench/pong-steps.ts` reports its figures next to both.
 *
 *   npx ts-node --transpile-only bench/pipe-floor.ts [rounds] [peers] [stream|pipes|blocking|all]
 */
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { closeSync, writeSync } from 'node:fs';
import { openBlockingPipe } from './lib/blocking-pipe';
import { pipeInput } from './lib/pipe-input';
import { closeChildEnds, openProtocolPipes } from './lib/protocol-pipes';
import { Doorbell } from './lib/doorbell';
import { PipeReader } from './lib/pipe-reader';
import { buildSandboxCommand } from '../src/infrastructure/sandbox/sandbox-command';
import { detectSandboxEngine, type SandboxEngine } from '../src/infrastructure/sandbox/sandbox-engine';
import { sandboxLimits } from '../src/infrastructure/sandbox/sandbox-limits';
import { defaultUidPool } from '../src/infrastructure/sandbox/uid-pool';

const ECHO = [
  'import os',
  'r = os.read',
  'w = os.write',
  'while True:',
  '    data = r(0, 65536)',
  '    if not data:',
  '        break',
  '    w(1, b"0\\n")',
].join('\n');

interface Peer {
  send(): void;
  stop(): void;
}

function echoCommand(engine: SandboxEngine, uid: number | null) {
  if (!engine.tools || engine.kind === 'none') throw new Error('no sandbox engine');
  return buildSandboxCommand({
    engine: engine.kind,
    tools: engine.tools,
    uid,
    limits: sandboxLimits(),
    readOnlyBinds: [],
    workingDir: '/tmp',
    argv: ['/usr/bin/python3', '-I', '-S', '-u', '-c', ECHO],
    env: { PATH: '/usr/bin:/bin' },
  });
}

function startPeer(engine: SandboxEngine, onAnswer: () => void): Peer {
  const uid = engine.dedicatedUids ? defaultUidPool.acquire() : null;
  const command = echoCommand(engine, uid);
  const child = spawn(command.command, command.args, { cwd: command.cwd, stdio: ['pipe', 'pipe', 'inherit'], env: {} });
  child.stdout.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) onAnswer();
  });
  return {
    send: () => child.stdin.write('{"t":1}\n'),
    stop: () => {
      child.stdin.end();
      child.kill('SIGKILL');
      if (uid !== null) defaultUidPool.release(uid);
    },
  };
}

const LINE = Buffer.from('{"t":1}\n');

/** The same peer on real pipes: one writeSync per line, answers read by a socket on the pipe. */
async function startPipesPeer(engine: SandboxEngine, onAnswer: () => void): Promise<Peer> {
  const uid = engine.dedicatedUids ? defaultUidPool.acquire() : null;
  const command = echoCommand(engine, uid);
  const pipes = await openProtocolPipes();
  let child;
  try {
    child = spawn(command.command, command.args, { cwd: command.cwd, stdio: [pipes.childInput, pipes.childOutput, 'inherit'], env: {} });
  } finally {
    closeChildEnds(pipes);
  }
  const input = pipeInput(pipes.hostInput);
  const output = new Socket({ fd: pipes.hostOutput, readable: true, writable: false });
  output.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) onAnswer();
  });
  return {
    send: () => input.write(LINE),
    stop: () => {
      input.destroy();
      output.destroy();
      child.kill('SIGKILL');
      if (uid !== null) defaultUidPool.release(uid);
    },
  };
}

interface BlockingPeer {
  readonly input: number;
  readonly reader: PipeReader;
  stop(): void;
}

function startBlockingPeer(engine: SandboxEngine, doorbell: Doorbell): BlockingPeer {
  const uid = engine.dedicatedUids ? defaultUidPool.acquire() : null;
  const command = echoCommand(engine, uid);
  const input = openBlockingPipe({ nonBlockingWrite: true });
  const output = openBlockingPipe();
  const child = spawn(command.command, command.args, { cwd: command.cwd, stdio: [input.readFd, output.writeFd, 'inherit'], env: {} });
  closeSync(input.readFd);
  closeSync(output.writeFd);
  return {
    input: input.writeFd,
    reader: new PipeReader(output.readFd, doorbell),
    stop: () => {
      closeSync(input.writeFd);
      child.kill('SIGKILL');
      if (uid !== null) defaultUidPool.release(uid);
    },
  };
}

/** The same ping-pong over blocking pipes: reader threads ring a doorbell this thread sleeps on. */
async function measureBlocking(engine: SandboxEngine, rounds: number, peerCount: number): Promise<PipeFloor> {
  const doorbell = new Doorbell();
  const peers: BlockingPeer[] = [];
  for (let i = 0; i < peerCount; i += 1) peers.push(startBlockingPeer(engine, doorbell));
  const answered = new Array<boolean>(peerCount).fill(false);
  const round = (): void => {
    answered.fill(false);
    for (const peer of peers) writeSync(peer.input, LINE);
    for (;;) {
      const before = doorbell.ticket();
      let missing = 0;
      peers.forEach((peer, index) => {
        peer.reader.drain((chunk) => {
          if (chunk.includes(0x0a)) answered[index] = true;
        });
        if (!answered[index]) missing += 1;
      });
      if (missing === 0) return;
      doorbell.expect(missing);
      const ticket = doorbell.ticket();
      if (ticket === before) doorbell.wait(ticket, 10_000);
    }
  };
  try {
    for (let i = 0; i < 2000; i += 1) round(); // start-up and warm-up
    const cpu = process.cpuUsage();
    const startedAt = performance.now();
    for (let i = 0; i < rounds; i += 1) round();
    const wallMicrosPerRound = ((performance.now() - startedAt) * 1000) / rounds;
    const used = process.cpuUsage(cpu);
    return { wallMicrosPerRound, hostCpuMicrosPerRound: (used.user + used.system) / rounds };
  } finally {
    for (const peer of peers) peer.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type FloorMechanism = 'stream' | 'pipes' | 'blocking';

export interface PipeFloor {
  /** Wall-clock microseconds per round: one line to every peer and every answer back. */
  readonly wallMicrosPerRound: number;
  /** CPU microseconds per round in this process. */
  readonly hostCpuMicrosPerRound: number;
}

/** The bare ping-pong's cost per round, after a warm-up; null without a sandbox engine. */
export async function measurePipeFloor(rounds: number, peerCount = 2, mechanism: FloorMechanism = 'stream'): Promise<PipeFloor | null> {
  const engine = detectSandboxEngine();
  if (engine.kind === 'none') return null;
  if (mechanism === 'blocking') return measureBlocking(engine, rounds, peerCount);
  let pending = 0;
  let resolveRound: (() => void) | null = null;
  const peers: Peer[] = [];
  const answered = (): void => {
    pending -= 1;
    if (pending === 0 && resolveRound) {
      const resolve = resolveRound;
      resolveRound = null;
      resolve();
    }
  };
  for (let i = 0; i < peerCount; i += 1) peers.push(mechanism === 'pipes' ? await startPipesPeer(engine, answered) : startPeer(engine, answered));
  const round = (): Promise<void> =>
    new Promise((resolve) => {
      pending = peers.length;
      resolveRound = resolve;
      for (const peer of peers) peer.send();
    });
  try {
    for (let i = 0; i < 2000; i += 1) await round(); // start-up and warm-up
    const cpu = process.cpuUsage();
    const startedAt = performance.now();
    for (let i = 0; i < rounds; i += 1) await round();
    const wallMicrosPerRound = ((performance.now() - startedAt) * 1000) / rounds;
    const used = process.cpuUsage(cpu);
    return { wallMicrosPerRound, hostCpuMicrosPerRound: (used.user + used.system) / rounds };
  } finally {
    for (const peer of peers) peer.stop();
  }
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 20_000);
  const peers = Number(process.argv[3] ?? 2);
  const which = process.argv[4] ?? 'all';
  const mechanisms: FloorMechanism[] = which === 'all' ? ['stream', 'pipes', 'blocking'] : [which === 'blocking' || which === 'pipes' ? which : 'stream'];
  for (const mechanism of mechanisms) {
    const floor = await measurePipeFloor(rounds, peers, mechanism);
    if (floor === null) {
      console.log('SKIPPED: no sandbox engine on this machine');
      return;
    }
    console.log(`bare pipe ping-pong (${mechanism}), node <-> ${peers} sandboxed python process(es): ${floor.wallMicrosPerRound.toFixed(1)} us per round, CPU in this process ${floor.hostCpuMicrosPerRound.toFixed(1)} us`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
