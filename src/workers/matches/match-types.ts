/**
 * The types a match is run with and gives back, shared by runMatch (match-runner.ts) and the
 * match thread that plays it (match-thread.ts, match-play.ts).
 */
import { z } from 'zod';
import type { PerPlayer } from '../../domain/arena/environments/environment';
import type { EnvironmentOptions } from '../../domain/arena/environments/registry';
import type { Forfeit, MatchWinner, Replay } from '../../domain/arena/replay';
import type { SandboxEngine } from '../../infrastructure/sandbox/sandbox-engine';
import { sandboxLimitsSchema } from '../../infrastructure/sandbox/sandbox-limits';

export const matchLimitsSchema = sandboxLimitsSchema.extend({
  /** Wall-clock budget for the whole match; past it, the agent that used more thinking time forfeits. */
  matchDeadlineMs: z.number().int().positive().default(15 * 60 * 1000),
});
export type MatchLimits = z.infer<typeof matchLimitsSchema>;
export type MatchLimitsInput = z.input<typeof matchLimitsSchema>;

export interface MatchAgent {
  /** The agent's id (recorded in the replay). */
  readonly id: string;
  /** Directory with agent.py (an extracted, validated submission). */
  readonly dir: string;
  /** A virtualenv's python for agents with requirements; the system python3 otherwise. */
  readonly pythonExecutable?: string;
}

export interface MatchResult {
  readonly status: 'completed';
  readonly matchId: string;
  readonly environmentId: string;
  readonly scores: PerPlayer<number>;
  readonly winner: MatchWinner;
  readonly totalSteps: number;
  readonly executionTimeSec: number;
  /** The forfeit when exactly one agent forfeited. */
  readonly forfeit?: Forfeit;
  /** Every forfeit: none, one, or both agents failing at the same step (a draw). */
  readonly forfeits: readonly Forfeit[];
  readonly replay: Replay;
  /** The end of each agent's stderr, for the owners to debug their agents. */
  readonly agentLogs: PerPlayer<string>;
  readonly sandbox: { readonly engine: SandboxEngine['kind']; readonly notes: readonly string[] };
}

/** What the match thread posts back: its result, or the error that stopped it. */
export type MatchThreadMessage =
  | { readonly ok: true; readonly result: MatchResult }
  | { readonly ok: false; readonly error: { readonly name: string; readonly message: string } };


/** What the match thread is given (structured-cloned from the thread that started it). */
export interface MatchThreadInput {
  readonly matchId: string;
  readonly environmentId: string;
  readonly environmentOptions?: EnvironmentOptions;
  readonly seed: number;
  readonly agents: readonly [MatchAgent, MatchAgent];
  readonly limits: MatchLimits;
  readonly engine: SandboxEngine;
  /** Each agent's dedicated uid, taken from the starting thread's pool (null without dedicated uids). */
  readonly uids: readonly [number | null, number | null];
  readonly runtimeDir?: string;
  /** When runMatch was called (monotonicMs), for the match's execution time. */
  readonly startedAtMs: number;
}
