/**
 * Trainer runners over the public HTTP API (docs/training.md, "Trainer runners"): a signed-in
 * user issues runner tokens; `arena runner` presents one to claim its owner's `remote` jobs on a
 * lease, report progress (renewing the lease), and upload the artefact. Runner routes take only
 * runner tokens, and runner tokens are taken nowhere else.
 */
import type { Request } from 'express';
import type { z } from 'zod';
import type { CommandContext } from '../../commands/command-context';
import {
  claimRemoteTrainingJob,
  recordRunnerReport,
  requireRunnersJob,
  runnerWorkerId,
  type RunnerReport,
} from '../../commands/training/runner-job-commands';
import {
  authenticateRunnerToken,
  isRunnerToken,
  issueRunnerToken,
  revokeRunnerToken,
  type RunnerPrincipal,
} from '../../commands/training/runner-token-commands';
import { ConflictError, PayloadTooLargeError, UnauthorizedError, ValidationError } from '../../domain/shared/errors';
import type { TrainingJob } from '../../domain/training/training-job';
import { arenaStorage } from '../../infrastructure/artifacts/arena-storage';
import type { CommandServices } from '../../commands/command-states';
import { pendingRemoteTrainingJobs } from '../../projections/postgres/training/training-queries';
import { defineRoute, type RouteContext } from '../shared/route';
import {
  ArtifactUploadBody,
  ClaimedTrainingJobResponse,
  ClaimTrainingJobBody,
  IssueRunnerTokenBody,
  RunnerCancelledBody,
  RunnerCompleteQuery,
  RunnerFailBody,
  RunnerHeartbeatBody,
  RunnerJobParams,
  RunnerProgressBody,
  RunnerReleaseBody,
  RunnerRunStateResponse,
  RunnerTokenParams,
  RunnerTokenResponse,
} from '../../contracts/training-runner-wire';

export type TrainingRunnerRouteDeps = Pick<CommandServices, 'store' | 'db' | 'config' | 'now' | 'newId'>;

const CLAIM_POLL_MS = 500;
const RUNNER_AUTH_401 = { description: 'Missing or invalid runner token (an access token is not accepted here)' };

/** `Authorization: Bearer lxrt_...`; an access token here is a 401 that says what is needed. */
async function requireRunner(deps: TrainingRunnerRouteDeps, req: Request): Promise<RunnerPrincipal> {
  const header = req.headers.authorization ?? '';
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (token === undefined) throw new UnauthorizedError('Runner token required: send Authorization: Bearer <runner token> (POST /training/runners/tokens)');
  if (!isRunnerToken(token)) throw new UnauthorizedError('This route takes a runner token (POST /training/runners/tokens), not an access token');
  return authenticateRunnerToken(deps.store, token);
}

function runState(jobId: string, state: TrainingJob) {
  if (state.status === 'none') throw new Error('a recorded job has a state');
  return {
    job_id: jobId,
    status: state.status,
    attempt: state.attempt,
    cancel_requested: state.cancelRequested,
    lease_expires_at: state.lease?.expiresAt ?? null,
  };
}

async function readBody(req: Request, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > limitBytes) throw new PayloadTooLargeError(`Artefact is larger than ${limitBytes} bytes`, { limit_bytes: limitBytes });
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

export function trainingRunnerRoutes(deps: TrainingRunnerRouteDeps) {
  const artifacts = arenaStorage(deps.config).artifacts;
  const leaseDurationMs = deps.config.TRAINING_RUNNER_LEASE_SEC * 1000;
  /** The request's command context, on behalf of `actor` (a runner's worker id, or the signed-in user). */
  const commandContext = (ctx: RouteContext<unknown, unknown, unknown>, actor: Record<string, string>): CommandContext => ({
    ...ctx.command,
    metadata: { correlationId: ctx.requestId, causationId: ctx.requestId, ...actor },
  });
  const report = async (
    ctx: RouteContext<{ runner_id: string; attempt: number }, unknown, { job_id: string }>,
    toReport: RunnerReport,
  ) => {
    const principal = await requireRunner(deps, ctx.req);
    const outcome = await recordRunnerReport(
      commandContext(ctx, { workerId: runnerWorkerId(principal, ctx.body.runner_id) }),
      principal,
      ctx.params.job_id,
      { runnerName: ctx.body.runner_id, attempt: ctx.body.attempt },
      toReport,
    );
    return { status: 200, body: runState(ctx.params.job_id, outcome.state) };
  };
  const runnerResponses = {
    200: { description: 'Recorded; the run as it stands', schema: RunnerRunStateResponse },
    401: RUNNER_AUTH_401,
    403: { description: "Not the runner token owner's job" },
    404: { description: 'No such job' },
    409: { description: 'This run is no longer current (its lease expired or the job moved on): stop the trainer' },
  };

  /** POST /training/runners/jobs/{job_id}/{name}: one runner report, answered with the run as it stands. */
  const reportRoute = <B extends z.ZodType<{ runner_id: string; attempt: number }>>(
    name: string,
    summary: string,
    body: B,
    toReport: (body: z.infer<B>) => RunnerReport,
  ) =>
    defineRoute({
      method: 'post',
      path: `/training/runners/jobs/:job_id/${name}`,
      rateLimit: 'runner',
      summary,
      tags: ['training', 'runners'],
      auth: 'none',
      request: { params: RunnerJobParams, body },
      responses: runnerResponses,
      handler: (ctx) => report(ctx, toReport(ctx.body)),
    });
  return [
    defineRoute({
      method: 'post',
      path: '/training/runners/tokens',
      summary: 'Issue a runner token for `arena runner`: it serves only your own training jobs, only on the runner routes',
      tags: ['training', 'runners'],
      auth: 'required',
      request: { body: IssueRunnerTokenBody },
      responses: { 201: { description: 'The token (shown once)', schema: RunnerTokenResponse } },
      handler: async (ctx) => {
        const issued = await issueRunnerToken(commandContext(ctx, { userId: ctx.user.id }), { ownerId: ctx.user.id, name: ctx.body.name });
        return {
          status: 201,
          body: { id: issued.tokenId, name: ctx.body.name, token: issued.token, scope: 'training_runner', created_at: issued.issuedAt },
        };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/training/runners/tokens/:token_id',
      summary: 'Revoke a runner token; runners using it are refused from the next request on',
      tags: ['training', 'runners'],
      auth: 'required',
      request: { params: RunnerTokenParams },
      responses: { 204: { description: 'Revoked' }, 403: { description: 'Not your token' }, 404: { description: 'No such token' } },
      handler: async (ctx) => {
        await revokeRunnerToken(commandContext(ctx, { userId: ctx.user.id }), ctx.params.token_id, ctx.user.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/training/runners/claim',
      rateLimit: 'runner',
      summary: "Runner: claim the oldest pending job of the token owner's for one of these environments, on a lease",
      tags: ['training', 'runners'],
      auth: 'none',
      request: { body: ClaimTrainingJobBody },
      responses: {
        200: { description: 'Claimed: the job spec and the lease', schema: ClaimedTrainingJobResponse },
        204: { description: 'No job to claim (after waiting `wait_sec`)' },
        400: { description: 'None of the environments is served by trainer runners on this server (the message names those that are)' },
        401: RUNNER_AUTH_401,
      },
      handler: async (ctx) => {
        const principal = await requireRunner(deps, ctx.req);
        const served = Object.keys(deps.config.TRAINING_RUNNER_ENVIRONMENTS);
        const environments = ctx.body.environments.filter((environment) => served.includes(environment));
        if (environments.length === 0) {
          throw new ValidationError(`none of ${ctx.body.environments.join(', ')} is trained by runners here; runner environments: ${served.join(', ') || 'none'}`, {
            runnerEnvironments: served,
          });
        }
        const context = commandContext(ctx, { workerId: runnerWorkerId(principal, ctx.body.runner_id) });
        const deadline = Date.now() + ctx.body.wait_sec * 1000;
        let gone = false;
        ctx.res.once('close', () => (gone = true));
        for (;;) {
          const serves = { environments, ...(ctx.body.algorithms !== undefined ? { algorithms: ctx.body.algorithms } : {}) };
          const candidates = await pendingRemoteTrainingJobs(deps.db, principal.ownerId, serves);
          // A runner that hung up gets nothing: a claim it never hears of would hold the job until its lease ran out.
          if (gone) return 'handled';
          const claimed = await claimRemoteTrainingJob(context, principal, { runnerName: ctx.body.runner_id, ...serves, leaseDurationMs }, candidates);
          if (claimed) {
            const job = claimed.state;
            if (job.status === 'none' || job.lease === null) throw new Error('a claimed job has a lease');
            return {
              status: 200,
              body: {
                job: {
                  id: claimed.jobId,
                  algorithm: job.algorithm,
                  environment: job.environment,
                  total_timesteps: job.totalTimesteps,
                  hyperparameters: job.hyperparameters,
                  environment_options: job.environmentOptions,
                  seed: job.seed,
                },
                run: {
                  runner_id: ctx.body.runner_id,
                  attempt: job.attempt,
                  lease_expires_at: job.lease.expiresAt,
                  lease_duration_sec: job.lease.durationMs / 1000,
                  heartbeat_interval_sec: job.lease.durationMs / 3000,
                },
              },
            };
          }
          if (Date.now() + CLAIM_POLL_MS > deadline) return { status: 204 };
          await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
        }
      },
    }),
    reportRoute('heartbeat', 'Runner: the run is alive; renews the lease and says whether a cancel was requested', RunnerHeartbeatBody, () => ({
      type: 'RecordTrainingHeartbeat',
    })),
    reportRoute('progress', 'Runner: a progress report (a metrics row and a push on /ws/training); renews the lease', RunnerProgressBody, (body) => ({
      type: 'RecordTrainingProgress',
      timestep: body.timestep,
      episodeReward: body.episode_reward,
      episodeLength: body.episode_length,
      fps: body.fps,
      loss: body.loss,
      estimatedTimeRemainingSec: body.estimated_time_remaining,
    })),
    defineRoute({
      method: 'post',
      path: '/training/runners/jobs/:job_id/complete',
      rateLimit: 'runner',
      summary: 'Runner: the run completed; the body is the trained policy artefact (any bytes), stored for GET /training/jobs/{job_id}/artifact',
      tags: ['training', 'runners'],
      auth: 'none',
      request: { params: RunnerJobParams, query: RunnerCompleteQuery },
      documentedBody: { contentType: 'application/octet-stream', schema: ArtifactUploadBody, description: 'The artefact file' },
      responses: { ...runnerResponses, 200: { description: 'Completed', schema: RunnerRunStateResponse }, 413: { description: 'Artefact too large (BODY_LIMIT_BYTES)' } },
      handler: async (ctx) => {
        const principal = await requireRunner(deps, ctx.req);
        const { runner_id: runnerName, attempt, timestep, mean_return: meanReturn } = ctx.query;
        const job = await requireRunnersJob({ store: deps.store }, principal, ctx.params.job_id);
        // Checked before the upload is stored, so a stale runner's artefact is not kept; the decider checks again on append.
        if (job.status !== 'running' || job.workerId !== runnerWorkerId(principal, runnerName) || job.attempt !== attempt) {
          throw new ConflictError(`training run ${attempt} of job ${ctx.params.job_id} is no longer current (status ${job.status}, attempt ${job.attempt})`, {
            status: job.status,
            attempt: job.attempt,
          });
        }
        const stored = await artifacts.put(await readBody(ctx.req, deps.config.BODY_LIMIT_BYTES));
        const outcome = await recordRunnerReport(
          commandContext(ctx, { workerId: runnerWorkerId(principal, runnerName) }),
          principal,
          ctx.params.job_id,
          { runnerName, attempt },
          { type: 'CompleteTraining', timestep, artifactKey: stored.key, artifactSizeBytes: stored.sizeBytes, meanReturn: meanReturn ?? null },
        );
        return { status: 200, body: runState(ctx.params.job_id, outcome.state) };
      },
    }),
    reportRoute('fail', 'Runner: the run failed (the trainer said so, or crashed); the job fails with this reason', RunnerFailBody, (body) => ({
      type: 'FailTraining',
      reason: body.reason,
    })),
    reportRoute('cancelled', 'Runner: the trainer stopped after a cancel request; the job ends cancelled', RunnerCancelledBody, (body) => ({
      type: 'ConfirmTrainingCancelled',
      timestep: body.timestep,
    })),
    reportRoute('release', 'Runner: hand the job back (the runner is stopping); it is requeued for another runner', RunnerReleaseBody, (body) => ({
      type: 'ReleaseTraining',
      reason: body.reason,
    })),
  ];
}
