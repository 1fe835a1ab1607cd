/**
 * The RunnerToken aggregate (stream `trainingrunnertoken-<tokenId>`): a credential a user issues
 * for their trainer runners (`arena runner`). It acts only on its owner's training jobs and only
 * on the runner routes; normal routes do not accept it, and it never grants a user session. The
 * secret itself is never stored: only its SHA-256, which the command layer computes and compares.
 */
import { z } from 'zod';
import type { Decider } from '../shared/decider';
import { defineEvent, type EventOf } from '../shared/event-schema';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '../shared/errors';

export const RUNNER_TOKEN_CATEGORY = 'trainingrunnertoken';
export const runnerTokenStreamId = (tokenId: string): string => `${RUNNER_TOKEN_CATEGORY}-${tokenId}`;

export const RunnerTokenIssued = defineEvent('RunnerTokenIssued', {
  data: z.object({ tokenId: z.string(), ownerId: z.string(), name: z.string(), secretSha256: z.string(), issuedAt: z.string() }),
});
export type RunnerTokenIssued = EventOf<typeof RunnerTokenIssued>;
export const RunnerTokenRevoked = defineEvent('RunnerTokenRevoked', { data: z.object({ tokenId: z.string(), revokedBy: z.string(), revokedAt: z.string() }) });
export type RunnerTokenRevoked = EventOf<typeof RunnerTokenRevoked>;
export type RunnerTokenEvent = RunnerTokenIssued | RunnerTokenRevoked;

export type RunnerToken =
  | { status: 'none' }
  | { status: 'active' | 'revoked'; tokenId: string; ownerId: string; name: string; secretSha256: string };

export type RunnerTokenCommand =
  | { type: 'IssueRunnerToken'; tokenId: string; ownerId: string; name: string; secretSha256: string; now: string }
  | { type: 'RevokeRunnerToken'; userId: string; now: string };

export const initialRunnerToken = (): RunnerToken => ({ status: 'none' });

export function evolveRunnerToken(state: RunnerToken, event: RunnerTokenEvent): RunnerToken {
  switch (event.type) {
    case 'RunnerTokenIssued': {
      const { tokenId, ownerId, name, secretSha256 } = event.data;
      return { status: 'active', tokenId, ownerId, name, secretSha256 };
    }
    case 'RunnerTokenRevoked':
      return state.status === 'none' ? state : { ...state, status: 'revoked' };
  }
}

export function decideRunnerToken(command: RunnerTokenCommand, state: RunnerToken): RunnerTokenEvent[] {
  switch (command.type) {
    case 'IssueRunnerToken': {
      if (state.status !== 'none') throw new ConflictError('Runner token already exists');
      const { tokenId, ownerId, name, secretSha256, now } = command;
      return [{ type: 'RunnerTokenIssued', data: { tokenId, ownerId, name, secretSha256, issuedAt: now } }];
    }
    case 'RevokeRunnerToken':
      if (state.status === 'none') throw new NotFoundError('Runner token not found');
      if (state.ownerId !== command.userId) throw new ForbiddenError('Not the owner of this runner token');
      if (state.status === 'revoked') return [];
      return [{ type: 'RunnerTokenRevoked', data: { tokenId: state.tokenId, revokedBy: command.userId, revokedAt: command.now } }];
  }
}

/**
 * Who a presented runner token acts for. `secretMatches` is the command layer's constant-time
 * comparison of the presented secret's hash with the stored one. Every failure is the same 401:
 * the answer must not tell an unknown token from a revoked one or a wrong secret.
 */
export function runnerTokenOwner(state: RunnerToken, secretMatches: (secretSha256: string) => boolean): { tokenId: string; ownerId: string } {
  if (state.status !== 'active' || !secretMatches(state.secretSha256)) throw new UnauthorizedError('Invalid runner token');
  return { tokenId: state.tokenId, ownerId: state.ownerId };
}

export const runnerTokenDecider: Decider<RunnerTokenCommand, RunnerToken, RunnerTokenEvent> = {
  initialState: initialRunnerToken,
  evolve: evolveRunnerToken,
  decide: decideRunnerToken,
};
