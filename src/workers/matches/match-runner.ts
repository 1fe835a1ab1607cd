/**
 * Runs one match: starts both agents in the sandbox, plays the environment loop, records the
 * replay. An agent that crashes, times out, answers garbage or breaks a limit forfeits with a
 * recorded reason and the match still returns a result; both sandboxes are always killed.
 * Only infrastructure problems (no sandbox on this machine, unknown environment) throw.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isActionInSpace, type Action, type PerPlayer, type PlayerIndex } from '../../domain/arena/environments/environment';
import { getEnvironment, type EnvironmentOptions } from '../../domain/arena/environments/registry';
import { compactObservation, decideWinner, type Forfeit, type MatchSide, type MatchWinner, type Replay, type ReplayFrame } from '../../domain/arena/replay';
import { AGENT_PROTOCOL_VERSION } from '../../infrastructure/sandbox/agent-protocol';
import { AgentSession, type AgentFailure, type StepOutcome } from '../../infrastructure/sandbox/agent-session';
import { detectSandboxEngine, type SandboxEngine } from '../../infrastructure/sandbox/sandbox-engine';
import { sandboxLimitsSchema } from '../../infrastructure/sandbox/sandbox-limits';
import type { UidPool } from '../../infrastructure/sandbox/uid-pool';

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

export interface RunMatchInput {
  readonly matchId?: string;
  readonly environmentId: string;
  readonly environmentOptions?: EnvironmentOptions;
  readonly seed: number;
  readonly agents: readonly [MatchAgent, MatchAgent];
  readonly limits?: MatchLimitsInput;
  /** Detected on this machine when absent. */
  readonly engine?: SandboxEngine;
  readonly uidPool?: UidPool;
  readonly runtimeDir?: string;
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

const SIDES: PerPlayer<MatchSide> = ['agent_1', 'agent_2'];
const PLAYERS: PerPlayer<PlayerIndex> = [0, 1];

function agentSeed(matchSeed: number, player: PlayerIndex): number {
  return (Math.imul(Math.trunc(matchSeed) >>> 0, 2654435761) + player + 1) >>> 0;
}

function forfeitOf(player: PlayerIndex, failure: AgentFailure, step: number): Forfeit {
  return { agent: SIDES[player], reason: failure.reason, detail: failure.detail, step };
}

/** Sends both agents their observation and resolves once both outcomes are in: one promise per step. */
function bothAct(first: AgentSession, second: AgentSession, step: number, observation1: readonly number[], observation2: readonly number[]): Promise<PerPlayer<StepOutcome>> {
  return new Promise((resolve) => {
    let outcome1: StepOutcome | null = null;
    let outcome2: StepOutcome | null = null;
    first.act(step, observation1, (outcome) => {
      outcome1 = outcome;
      if (outcome2 !== null) resolve([outcome, outcome2]);
    });
    second.act(step, observation2, (outcome) => {
      outcome2 = outcome;
      if (outcome1 !== null) resolve([outcome1, outcome]);
    });
  });
}

export async function runMatch(input: RunMatchInput): Promise<MatchResult> {
  const startedAt = performance.now();
  const limits = matchLimitsSchema.parse(input.limits ?? {});
  const environment = getEnvironment(input.environmentId, input.environmentOptions);
  const engine = input.engine ?? detectSandboxEngine();
  const matchId = input.matchId ?? `match-${randomUUID()}`;
  const forfeits: Forfeit[] = [];
  const frames: ReplayFrame[] = [];
  const sessions: (AgentSession | null)[] = [null, null];
  let state = environment.reset(input.seed);
  const initialState = environment.frameState(state);

  try {
    // allSettled: if one start throws (our fault, e.g. an unreadable directory), the other
    // agent's sandbox must still be recorded so that `finally` kills it.
    const started = await Promise.allSettled(
      PLAYERS.map((player) =>
        AgentSession.start(
          { agentDir: input.agents[player].dir, pythonExecutable: input.agents[player].pythonExecutable, limits, engine, uidPool: input.uidPool, runtimeDir: input.runtimeDir },
          {
            type: 'init',
            protocol_version: AGENT_PROTOCOL_VERSION,
            environment: environment.id,
            player,
            seed: agentSeed(input.seed, player),
            observation_space: environment.observationSpace,
            action_space: environment.actionSpace,
          },
        ),
      ),
    );
    started.forEach((outcome, player) => {
      if (outcome.status === 'fulfilled') sessions[player] = outcome.value.session;
    });
    for (const outcome of started) {
      if (outcome.status === 'rejected') throw outcome.reason;
    }
    started.forEach((outcome, player) => {
      if (outcome.status === 'fulfilled' && outcome.value.failure) forfeits.push(forfeitOf(PLAYERS[player]!, outcome.value.failure, -1));
    });

    const thinkingMs = [0, 0];
    /** The outcome's action if it is a valid one; otherwise records the forfeit and gives undefined. */
    const judgeOutcome = (player: PlayerIndex, outcome: StepOutcome, step: number): Action | undefined => {
      thinkingMs[player]! += outcome.elapsedMs;
      if (!outcome.ok) {
        forfeits.push(forfeitOf(player, outcome.failure, step));
        return undefined;
      }
      if (!isActionInSpace(environment.actionSpace, outcome.action)) {
        const shown = JSON.stringify(outcome.action).slice(0, 100);
        forfeits.push(forfeitOf(player, { reason: 'invalid_action', detail: `action ${shown} is not in the action space ${JSON.stringify(environment.actionSpace)}` }, step));
        return undefined;
      }
      return outcome.action;
    };
    const matchDeadline = performance.now() + limits.matchDeadlineMs;
    let done = false;
    for (let step = 0; forfeits.length === 0 && !done; step += 1) {
      if (performance.now() > matchDeadline) {
        // A chess clock: the agent that used more of the time is the one that ran the clock out.
        const slower: PlayerIndex = thinkingMs[0]! >= thinkingMs[1]! ? 0 : 1;
        forfeits.push(forfeitOf(slower, { reason: 'match_timeout', detail: `match deadline of ${limits.matchDeadlineMs} ms passed; this agent used ${Math.round(thinkingMs[slower]!)} ms, its opponent ${Math.round(thinkingMs[1 - slower]!)} ms` }, step));
        break;
      }
      const observation1 = environment.observe(state, 0);
      const observation2 = environment.observe(state, 1);
      const [outcome1, outcome2] = await bothAct(sessions[0]!, sessions[1]!, step, observation1, observation2);
      const action1 = judgeOutcome(0, outcome1, step);
      const action2 = judgeOutcome(1, outcome2, step);
      if (forfeits.length > 0) break;
      const result = environment.step(state, [action1!, action2!]);
      frames.push({
        step,
        observation: compactObservation(observation1),
        action_1: action1!,
        action_2: action2!,
        reward_1: result.rewards[0],
        reward_2: result.rewards[1],
        state: environment.frameState(result.state),
      });
      state = result.state;
      done = result.done;
    }
  } finally {
    await Promise.all(sessions.map((session) => session?.close()));
  }

  const scores = environment.scores(state);
  const winner = decideWinner(scores, forfeits);
  const replay: Replay = {
    match_id: matchId,
    environment: environment.id,
    seed: input.seed,
    agents: { agent_1: input.agents[0].id, agent_2: input.agents[1].id },
    total_steps: frames.length,
    winner,
    scores,
    forfeits,
    rendering: environment.rendering,
    initial_state: initialState,
    frames,
  };
  return {
    status: 'completed',
    matchId,
    environmentId: environment.id,
    scores,
    winner,
    totalSteps: frames.length,
    executionTimeSec: Math.round(performance.now() - startedAt) / 1000,
    ...(forfeits.length === 1 ? { forfeit: forfeits[0] } : {}),
    forfeits,
    replay,
    agentLogs: [sessions[0]?.logs() ?? '', sessions[1]?.logs() ?? ''],
    sandbox: { engine: engine.kind, notes: engine.notes },
  };
}
