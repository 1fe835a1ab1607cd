/**
 * The limits one sandboxed agent runs under. OS limits (rlimits, tmpfs size) are enforced by the
 * kernel; output and deadline limits are enforced by the host side of the agent protocol.
 */
import { z } from 'zod';

const MiB = 1024 * 1024;

export const sandboxLimitsSchema = z.object({
  /** RLIMIT_CPU per process: SIGXCPU at this many CPU seconds, SIGKILL one second later. */
  cpuSeconds: z.number().int().positive().default(60),
  /** RLIMIT_AS per process: allocations past it fail (Python raises MemoryError). */
  memoryBytes: z.number().int().positive().default(1024 * MiB),
  /** RLIMIT_NPROC for the agent's dedicated uid: processes and threads, sandbox helpers included. */
  maxProcesses: z.number().int().min(4).default(16),
  /** RLIMIT_FSIZE: the largest file the agent can write (in its private /tmp). */
  maxFileBytes: z.number().int().positive().default(16 * MiB),
  /** RLIMIT_NOFILE. */
  maxOpenFiles: z.number().int().min(16).default(64),
  /** Size of the private tmpfs mounted on /tmp (it counts against memory). */
  tmpBytes: z.number().int().positive().default(64 * MiB),
  /** Protocol bytes the agent may send over the whole match. */
  maxStdoutBytes: z.number().int().positive().default(16 * MiB),
  /** Log bytes (stderr, and whatever the agent prints) over the whole match. */
  maxStderrBytes: z.number().int().positive().default(4 * MiB),
  /** The longest single protocol message. */
  maxMessageBytes: z.number().int().positive().default(64 * 1024),
  /** Wall-clock time to start Python, import agent.py and construct the agent. */
  initDeadlineMs: z.number().int().positive().default(10_000),
  /** Wall-clock time for one answer to a step. */
  stepDeadlineMs: z.number().int().positive().default(200),
});

export type SandboxLimits = z.infer<typeof sandboxLimitsSchema>;
export type SandboxLimitsInput = z.input<typeof sandboxLimitsSchema>;

export function sandboxLimits(input: SandboxLimitsInput = {}): SandboxLimits {
  return sandboxLimitsSchema.parse(input);
}
