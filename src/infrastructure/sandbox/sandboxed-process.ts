/**
 * One running sandboxed process seen as a message channel: write lines or bytes to its stdin,
 * await messages from its stdout with a deadline. A message is a line, or a fixed-length binary
 * action frame (it starts with `ACTION_FRAME_TAG`, a byte no text line starts with). Output is capped: past the stdout or stderr budget, or a line
 * longer than the message limit, the process is killed and the channel fails. Killing the
 * process kills the whole sandbox: bwrap's pid-namespace init dies with it (--die-with-parent),
 * and the kernel then kills every process left in that namespace.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ACTION_FRAME_BYTES, ACTION_FRAME_TAG, readActionFrame, type AgentMessage } from './agent-protocol';
import type { SandboxCommand } from './sandbox-command';

export type ChannelFailure =
  | { readonly kind: 'exited'; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly kind: 'output_limit'; readonly stream: 'stdout' | 'stderr'; readonly limitBytes: number }
  | { readonly kind: 'message_too_long'; readonly limitBytes: number }
  | { readonly kind: 'spawn_failed'; readonly message: string };

export type LineResult =
  | { readonly kind: 'line'; readonly line: string }
  | { readonly kind: 'frame'; readonly message: AgentMessage }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'failed'; readonly failure: ChannelFailure };

export interface OutputCaps {
  readonly maxStdoutBytes: number;
  readonly maxStderrBytes: number;
  readonly maxMessageBytes: number;
  /** How much of the end of stderr to keep for reports. */
  readonly keepStderrBytes: number;
}

/** Grace after 'exit' for the last stdout bytes, in case a leftover process keeps the pipe open. */
const EXIT_DRAIN_MS = 100;

export class SandboxedProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  /** Messages received and not yet taken (rarely more than one: the protocol is request/response). */
  private readonly messages: LineResult[] = [];
  /** The start of a message cut by a chunk boundary (a line or a frame: see its first byte). */
  private partialMessage: Buffer[] = [];
  private partialMessageBytes = 0;
  private stdoutBytes = 0;
  private stderrBytes = 0;
  private stderrTail = Buffer.alloc(0);
  private failure: ChannelFailure | null = null;
  private exitFailure: ChannelFailure | null = null;
  private stdoutEnded = false;
  /** The one `nextLine`/`onNextMessage` call waiting for a message, with its deadline (Date.now() milliseconds). */
  private waiter: { readonly resolve: (result: LineResult) => void; readonly deadline: number } | null = null;
  /**
   * One timer for every deadline instead of a timer per line: step after step the deadline moves
   * later, so the timer fires about once per deadline length, finds the current waiter's
   * deadline, and either times it out or re-arms for what is left.
   */
  private deadlineTimer: NodeJS.Timeout | null = null;
  private deadlineTimerAt = 0;
  private readonly exited: Promise<void>;

  constructor(
    command: SandboxCommand,
    private readonly caps: OutputCaps,
  ) {
    this.child = spawn(command.command, command.args, { cwd: command.cwd, stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (exitCode, signal) => {
        this.exitFailure = { kind: 'exited', exitCode, signal };
        if (this.stdoutEnded) this.fail(this.exitFailure);
        else setTimeout(() => this.fail({ kind: 'exited', exitCode, signal }), EXIT_DRAIN_MS).unref();
        resolve();
      });
      this.child.once('error', (error) => {
        this.fail({ kind: 'spawn_failed', message: error.message });
        resolve();
      });
    });
    this.child.stdin.on('error', () => undefined); // EPIPE after the agent died: reported via 'exit'
    this.child.stdout.on('data', (chunk: Buffer) => this.onStdout(chunk));
    this.child.stdout.once('end', () => {
      this.stdoutEnded = true;
      if (this.exitFailure) this.fail(this.exitFailure);
    });
    this.child.stderr.on('data', (chunk: Buffer) => this.onStderr(chunk));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last `keepStderrBytes` the process wrote to stderr (its log). */
  stderr(): string {
    return this.stderrTail.toString('utf8');
  }

  send(line: string): void {
    if (this.failure || !this.child.stdin.writable) return;
    this.child.stdin.write(`${line}\n`);
  }

  /**
   * Writes `bytes` as they are. The pipe takes them at once unless the process stopped reading;
   * until then (`writePending`) the caller must not reuse the buffer.
   */
  sendBytes(bytes: Buffer): void {
    if (this.failure || !this.child.stdin.writable) return;
    this.child.stdin.write(bytes);
  }

  /** Closes the process's stdin: it reads end-of-file once it has read what was sent. */
  endInput(): void {
    this.child.stdin.end();
  }

  /** True while an earlier write still waits for the process to read (its buffer is still in use). */
  get writePending(): boolean {
    return this.child.stdin.writableLength > 0;
  }

  /** The next stdout message; `timeout` if none arrives within `deadlineMs`. One call waits at a time. */
  nextLine(deadlineMs: number): Promise<LineResult> {
    return new Promise<LineResult>((resolve) => this.onNextMessage(deadlineMs, resolve));
  }

  /**
   * `nextLine` without a promise: hands the next message (or `timeout`, or the failure) to
   * `onMessage`, at once when one is already there, else when it arrives. One call waits at a time.
   */
  onNextMessage(deadlineMs: number, onMessage: (result: LineResult) => void): void {
    const message = this.messages.shift();
    if (message !== undefined) return onMessage(message);
    if (this.failure) return onMessage({ kind: 'failed', failure: this.failure });
    if (deadlineMs <= 0) return onMessage({ kind: 'timeout' });
    const deadline = Date.now() + deadlineMs;
    this.waiter = { resolve: onMessage, deadline };
    // A later deadline is found by the armed timer when it fires; only an earlier one re-arms it.
    if (this.deadlineTimer === null || deadline < this.deadlineTimerAt) this.armDeadlineTimer(deadline);
  }

  /** SIGKILLs the sandbox (idempotent) and waits until the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      this.child.kill('SIGKILL');
    }
    await this.exited;
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    this.child.stdin.destroy();
  }

  /** Waits up to `graceMs` for the process to exit by itself. */
  async waitForExit(graceMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const exited = await Promise.race([this.exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return exited;
  }

  /** Hands the waiting `nextLine` call the next line, or the failure, if there is one. */
  private wake(): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    const message = this.messages.shift();
    if (message !== undefined) {
      this.waiter = null;
      waiter.resolve(message);
    } else if (this.failure) {
      this.waiter = null;
      waiter.resolve({ kind: 'failed', failure: this.failure });
    }
  }

  private armDeadlineTimer(deadline: number): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimerAt = deadline;
    // Unreferenced: while a line is awaited the child's pipes keep the process alive anyway.
    this.deadlineTimer = setTimeout(this.onDeadlineTimer, Math.max(0, deadline - Date.now())).unref();
  }

  private readonly onDeadlineTimer = (): void => {
    this.deadlineTimer = null;
    const waiter = this.waiter;
    if (waiter === null) return;
    const remainingMs = waiter.deadline - Date.now();
    if (remainingMs > 0) {
      this.armDeadlineTimer(waiter.deadline);
      return;
    }
    // The event loop runs timers before it reads: after a stall of this process (a long GC, the
    // machine busy elsewhere) an answer may already wait in the pipe. Decide after this
    // iteration's reads (setImmediate runs after the poll phase); an agent that really did not
    // answer times out microseconds later.
    setImmediate(() => {
      if (this.waiter !== waiter) return;
      this.waiter = null;
      waiter.resolve({ kind: 'timeout' });
    });
  };

  private fail(failure: ChannelFailure): void {
    if (this.failure) return;
    this.failure = failure;
    if (failure.kind !== 'exited') this.child.kill('SIGKILL');
    this.wake();
  }

  private onStdout(chunk: Buffer): void {
    if (this.failure) return;
    this.stdoutBytes += chunk.length;
    if (this.stdoutBytes > this.caps.maxStdoutBytes) {
      this.fail({ kind: 'output_limit', stream: 'stdout', limitBytes: this.caps.maxStdoutBytes });
      return;
    }
    let start = this.partialMessageBytes === 0 ? 0 : this.completePartialMessage(chunk);
    if (start < 0) return;
    // The usual case: whole messages inside one chunk, decoded straight from it without copying.
    while (start < chunk.length) {
      if (chunk[start] === ACTION_FRAME_TAG) {
        if (chunk.length - start < ACTION_FRAME_BYTES) break;
        this.messages.push({ kind: 'frame', message: readActionFrame(chunk, start) });
        start += ACTION_FRAME_BYTES;
        continue;
      }
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      if (newline - start > this.caps.maxMessageBytes) {
        this.fail({ kind: 'message_too_long', limitBytes: this.caps.maxMessageBytes });
        return;
      }
      this.messages.push({ kind: 'line', line: chunk.toString('utf8', start, newline) });
      start = newline + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (rest[0] !== ACTION_FRAME_TAG && rest.length > this.caps.maxMessageBytes) {
        this.fail({ kind: 'message_too_long', limitBytes: this.caps.maxMessageBytes });
        return;
      }
      this.partialMessage.push(Buffer.from(rest));
      this.partialMessageBytes = rest.length;
    }
    this.wake();
  }

  /**
   * Completes the message cut by the previous chunk boundary with the start of `chunk`; returns
   * where the next message starts in `chunk`, or -1 when the chunk was used up (or the channel failed).
   */
  private completePartialMessage(chunk: Buffer): number {
    const isFrame = this.partialMessage[0]![0] === ACTION_FRAME_TAG;
    const end = isFrame ? Math.min(chunk.length, ACTION_FRAME_BYTES - this.partialMessageBytes) : chunk.indexOf(0x0a);
    const taken = end === -1 ? chunk.length : end;
    if (!isFrame && this.partialMessageBytes + taken > this.caps.maxMessageBytes) {
      this.fail({ kind: 'message_too_long', limitBytes: this.caps.maxMessageBytes });
      return -1;
    }
    this.partialMessage.push(chunk.subarray(0, taken));
    this.partialMessageBytes += taken;
    const complete = isFrame ? this.partialMessageBytes === ACTION_FRAME_BYTES : end !== -1;
    if (!complete) {
      // Keep a copy: the chunk's memory is not ours once this call returns.
      this.partialMessage[this.partialMessage.length - 1] = Buffer.from(chunk.subarray(0, taken));
      return -1;
    }
    const whole = Buffer.concat(this.partialMessage);
    this.partialMessage = [];
    this.partialMessageBytes = 0;
    this.messages.push(isFrame ? { kind: 'frame', message: readActionFrame(whole, 0) } : { kind: 'line', line: whole.toString('utf8') });
    return isFrame ? taken : taken + 1;
  }

  private onStderr(chunk: Buffer): void {
    this.stderrBytes += chunk.length;
    this.stderrTail = Buffer.concat([this.stderrTail, chunk]);
    if (this.stderrTail.length > this.caps.keepStderrBytes) {
      this.stderrTail = this.stderrTail.subarray(this.stderrTail.length - this.caps.keepStderrBytes);
    }
    if (this.stderrBytes > this.caps.maxStderrBytes) {
      this.fail({ kind: 'output_limit', stream: 'stderr', limitBytes: this.caps.maxStderrBytes });
    }
  }
}
