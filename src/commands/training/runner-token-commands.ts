/**
 * Runner tokens: issued by a signed-in user for their trainer runners, verified on every runner
 * request against the token's own stream (no read model: a revoke takes effect at once).
 * Format `lxrt_<token id>.<secret>`; only the secret's SHA-256 is stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../../domain/shared/errors';
import { runnerTokenDecider, runnerTokenOwner, runnerTokenStreamId } from '../../domain/training/runner-token';
import type { EventStore } from '../../infrastructure/eventstore/event-store';
import type { CommandContext } from '../command-context';
import { handleCommand, loadAggregate } from '../handle-command';

export const RUNNER_TOKEN_PREFIX = 'lxrt_';
const RUNNER_TOKEN_PATTERN = /^lxrt_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

/** Who a runner request acts for. */
export interface RunnerPrincipal {
  tokenId: string;
  ownerId: string;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export const isRunnerToken = (token: string): boolean => token.startsWith(RUNNER_TOKEN_PREFIX);

export async function issueRunnerToken(
  ctx: CommandContext,
  input: { ownerId: string; name: string },
): Promise<{ tokenId: string; token: string; issuedAt: string; revision: bigint | null }> {
  const tokenId = ctx.newId();
  const secret = randomBytes(32).toString('base64url');
  const outcome = await handleCommand(
    ctx.store,
    runnerTokenStreamId(tokenId),
    runnerTokenDecider,
    { type: 'IssueRunnerToken', tokenId, ownerId: input.ownerId, name: input.name, secretSha256: sha256(secret).toString('hex'), now: ctx.now().toISOString() },
    { metadata: ctx.metadata },
  );
  const issued = outcome.events[0];
  if (issued?.type !== 'RunnerTokenIssued') throw new Error('runner token was not issued');
  return { tokenId, token: `${RUNNER_TOKEN_PREFIX}${tokenId}.${secret}`, issuedAt: issued.data.issuedAt, revision: outcome.revision };
}

/** 404 unknown, 403 someone else's; revoking twice changes nothing. */
export async function revokeRunnerToken(ctx: CommandContext, tokenId: string, userId: string): Promise<void> {
  await handleCommand(ctx.store, runnerTokenStreamId(tokenId), runnerTokenDecider, { type: 'RevokeRunnerToken', userId, now: ctx.now().toISOString() }, { metadata: ctx.metadata });
}

/** The principal of a presented runner token; UnauthorizedError (always the same) for anything else. */
export async function authenticateRunnerToken(store: EventStore, token: string): Promise<RunnerPrincipal> {
  const match = RUNNER_TOKEN_PATTERN.exec(token);
  if (!match) throw new UnauthorizedError('Invalid runner token');
  const [, tokenId, secret] = match;
  const { state } = await loadAggregate(store, runnerTokenStreamId(tokenId), runnerTokenDecider);
  const presented = sha256(secret);
  return runnerTokenOwner(state, (stored) => {
    const expected = Buffer.from(stored, 'hex');
    return expected.length === presented.length && timingSafeEqual(expected, presented);
  });
}
