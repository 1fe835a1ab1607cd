import { parseAgentLine } from '../../../src/infrastructure/sandbox/agent-protocol';
import { buildSandboxCommand, type SandboxCommandInput } from '../../../src/infrastructure/sandbox/sandbox-command';
import { sandboxLimits } from '../../../src/infrastructure/sandbox/sandbox-limits';
import { UidPool } from '../../../src/infrastructure/sandbox/uid-pool';

const input: SandboxCommandInput = {
  engine: 'bubblewrap',
  tools: { fdCloser: '/usr/bin/python3', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', bwrap: '/usr/bin/bwrap', unshare: '/usr/bin/unshare' },
  uid: 200_123,
  limits: sandboxLimits({ cpuSeconds: 5, memoryBytes: 1_000_000, maxProcesses: 8 }),
  readOnlyBinds: [{ hostPath: '/srv/agents/a1', sandboxPath: '/arena/agent' }],
  workingDir: '/arena/agent',
  argv: ['/usr/bin/python3', 'runner.py'],
  env: { HOME: '/tmp' },
};

describe('sandbox command', () => {
  it('closes inherited fds, sets rlimits, drops to the dedicated uid, then enters bubblewrap', () => {
    const { command, args } = buildSandboxCommand(input);
    expect(command).toBe('/usr/bin/python3');
    expect(args).toEqual(expect.arrayContaining(['/usr/bin/prlimit', '--cpu=5:6', '--as=1000000', '--nproc=8', '--core=0', '--reuid=200123', '--regid=200123', '--clear-groups']));
    const order = ['/usr/bin/prlimit', '/usr/bin/setpriv', '/usr/bin/bwrap', '/usr/bin/python3'].map((tool) => args.lastIndexOf(tool));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('isolates network and filesystem: new namespaces, read-only agent, private tmp, clean environment', () => {
    const { args } = buildSandboxCommand(input);
    expect(args).toEqual(expect.arrayContaining(['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv']));
    expect(args).not.toContain('--share-net');
    expect(args.join(' ')).toContain('--ro-bind /srv/agents/a1 /arena/agent');
    expect(args.join(' ')).toContain(`--size ${input.limits.tmpBytes} --tmpfs /tmp`);
    expect(args.join(' ')).toContain('--setenv HOME /tmp');
    expect(args.join(' ')).not.toMatch(/--bind /); // nothing writable from the host
  });

  it('leaves out the process limit and uid switch when not running agents under a dedicated uid', () => {
    const { args } = buildSandboxCommand({ ...input, uid: null });
    expect(args.some((arg) => arg.startsWith('--nproc'))).toBe(false);
    expect(args).not.toContain('/usr/bin/setpriv');
  });
});

describe('agent protocol parsing', () => {
  it('accepts the protocol messages', () => {
    expect(parseAgentLine('{"type":"ready","agent_class":"Agent"}')).toEqual({ ok: true, message: { type: 'ready', agent_class: 'Agent' } });
    expect(parseAgentLine('{"type":"action","step":3,"action":2}')).toEqual({ ok: true, message: { type: 'action', step: 3, action: 2 } });
    expect(parseAgentLine('{"type":"error","phase":"act","message":"ZeroDivisionError: x"}')).toMatchObject({ ok: true });
  });

  it('rejects garbage, unknown types and extra fields', () => {
    expect(parseAgentLine('hello')).toEqual({ ok: false, problem: 'not JSON: "hello"' });
    expect(parseAgentLine('{"type":"shell","cmd":"rm"}')).toMatchObject({ ok: false });
    expect(parseAgentLine('{"type":"action","step":-1,"action":2}')).toMatchObject({ ok: false });
    expect(parseAgentLine('{"type":"ready","extra":true}')).toMatchObject({ ok: false });
    expect(parseAgentLine('[1,2]')).toMatchObject({ ok: false });
  });
});

describe('uid pool', () => {
  it('hands out distinct uids in its range and reuses released ones', () => {
    const pool = new UidPool(500, 3);
    const taken = [pool.acquire(), pool.acquire(), pool.acquire()];
    expect(new Set(taken).size).toBe(3);
    taken.forEach((uid) => expect(pool.contains(uid)).toBe(true));
    expect(() => pool.acquire()).toThrow(/all 3 sandbox uids are in use/);
    pool.release(taken[1]!);
    expect(pool.acquire()).toBe(taken[1]);
  });
});
