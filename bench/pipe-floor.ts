/**
 * The floor under the agent protocol: a bare ping-pong over the same pipes, with the same sandbox,
 * and nothing else. Node writes one short line to each of two python processes started exactly as
 * agents are (bubblewrap, prlimit, dedicated uid), each answers with one short line read and
 * written with plain `os.read`/`os.write`, and node waits for both answers before the next round.
 * No JSON, no environment, no agent, no replay: what is left is the kernel's pipe wake-ups and
 * scheduling, and libuv/stream delivery in node. `bench/pong-steps.ts` reports its wall figure
 * next to this one.
 *
 *   npx ts-node --transpile-only bench/pipe-floor.ts [rounds] [peers]
 */
import { spawn } from 'node:child_process';
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

function startPeer(engine: SandboxEngine, onAnswer: () => void): Peer {
  if (!engine.tools || engine.kind === 'none') throw new Error('no sandbox engine');
  const uid = engine.dedicatedUids ? defaultUidPool.acquire() : null;
  const command = buildSandboxCommand({
    engine: engine.kind,
    tools: engine.tools,
    uid,
    limits: sandboxLimits(),
    readOnlyBinds: [],
    workingDir: '/tmp',
    argv: ['/usr/bin/python3', '-I', '-S', '-u', '-c', ECHO],
    env: { PATH: '/usr/bin:/bin' },
  });
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

export interface PipeFloor {
  /** Wall-clock microseconds per round: one line to every peer and every answer back. */
  readonly wallMicrosPerRound: number;
  /** CPU microseconds per round in this process. */
  readonly hostCpuMicrosPerRound: number;
}

/** The bare ping-pong's cost per round, after a warm-up; null without a sandbox engine. */
export async function measurePipeFloor(rounds: number, peerCount = 2): Promise<PipeFloor | null> {
  const engine = detectSandboxEngine();
  if (engine.kind === 'none') return null;
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
  for (let i = 0; i < peerCount; i += 1) peers.push(startPeer(engine, answered));
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
  const floor = await measurePipeFloor(rounds, peers);
  if (floor === null) {
    console.log('SKIPPED: no sandbox engine on this machine');
    return;
  }
  console.log(`bare pipe ping-pong, node <-> ${peers} sandboxed python process(es): ${floor.wallMicrosPerRound.toFixed(1)} us per round, CPU in this process ${floor.hostCpuMicrosPerRound.toFixed(1)} us`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
