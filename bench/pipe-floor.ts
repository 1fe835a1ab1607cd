/**
 * The floor under the agent protocol: a bare ping-pong over the same pipes, with the same sandbox,
 * and nothing else. Node writes one short line to each of two python processes started exactly as
 * agents are (bubblewrap, prlimit, dedicated uid), each answers with one short line read and
 * written with plain `os.read`/`os.write`, and node waits for both answers before the next round.
 * No JSON, no environment, no agent, no replay: what is left is the kernel's pipe wake-ups and
 * scheduling, and libuv/stream delivery in node. `bench/pong-steps.ts` reports its wall figure
 * next to this one.
 *
 *   npx ts-node --transpile-only bench/pipe-floor.ts [rounds] [agents]
 */
import { spawn } from 'node:child_process';
import { buildSandboxCommand } from '../src/infrastructure/sandbox/sandbox-command';
import { detectSandboxEngine, type SandboxEngine } from '../src/infrastructure/sandbox/sandbox-engine';
import { sandboxLimits } from '../src/infrastructure/sandbox/sandbox-limits';
import { defaultUidPool } from '../src/infrastructure/sandbox/uid-pool';

const ECHO = [
  process.env.FLOOR_PRELUDE ?? '',
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
    workingDir: engine.kind === 'bubblewrap' ? '/tmp' : '/tmp',
    argv: ['/usr/bin/python3', '-I', '-S', '-c', ECHO],
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

/** Microseconds per round (one line to every peer and every answer back), after a warm-up. */
export async function measurePipeFloor(rounds: number, peerCount = 2): Promise<number | null> {
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
    const wall = ((performance.now() - startedAt) * 1000) / rounds;
    const used = process.cpuUsage(cpu);
    console.error(`host cpu per round: ${((used.user + used.system) / rounds).toFixed(1)} us (user ${(used.user / rounds).toFixed(1)}, sys ${(used.system / rounds).toFixed(1)})`);
    return wall;
  } finally {
    for (const peer of peers) peer.stop();
  }
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 20_000);
  const peers = Number(process.argv[3] ?? 2);
  const micros = await measurePipeFloor(rounds, peers);
  if (micros === null) {
    console.log('SKIPPED: no sandbox engine on this machine');
    return;
  }
  console.log(`bare pipe ping-pong, node <-> ${peers} sandboxed python process(es): ${micros.toFixed(1)} us per round`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
