import { z } from 'zod';
import { handleSubmissionCommand, submitAgentCode } from '../../commands/arena/submission-commands';
import { submissionStreamId } from '../../domain/arena/submission';
import { NotFoundError } from '../../domain/shared/errors';
import type { ArenaStorage } from '../../infrastructure/artifacts/arena-storage';
import { zipLimitsSchema } from '../../infrastructure/submissions/zip-validator';
import { findAgent, iso, isoOrNull } from '../../projections/postgres/arena/agent-queries';
import { findSubmission, listAgentSubmissions, typicalBuildSeconds, type SubmissionRow } from '../../projections/postgres/arena/submission-queries';
import { submissionsProjection } from '../../projections/postgres/arena/submissions-projection';
import { defineRoute } from '../shared/route';
import type { ArenaRouteDeps } from './arena-route-support';
import {
  AgentIdParams,
  BuildLogsResponse,
  BuildStatusResponse,
  CreatedSubmissionResponse,
  IdParams,
  PageQuery,
  RebuildResponse,
  SubmissionListResponse,
  SubmissionResponse,
} from './arena-schemas';
import { readSubmissionUpload } from './submission-upload';

const PHASES = { queued: 'Pending', building: 'Running', success: 'Succeeded', failed: 'Failed' } as const;
/** Until a build has succeeded here, an estimate needs a guess: a venv without packages takes seconds. */
const DEFAULT_BUILD_SECONDS = 60;

/** Where the archive lives in the artifact store; a location, not a URL (code is never served). */
const codePath = (row: Pick<SubmissionRow, 'content_hash'>) => `/storage/artifacts/sha256/${row.content_hash}.zip`;

export function submissionRoutes(deps: ArenaRouteDeps & { storage: ArenaStorage }) {
  const maxArchiveBytes = zipLimitsSchema.parse({}).maxArchiveBytes;
  const requireSubmission = async (id: string): Promise<SubmissionRow> => {
    const row = await findSubmission(deps.db, id);
    if (!row) throw new NotFoundError('Submission not found');
    return row;
  };

  return [
    defineRoute({
      method: 'post',
      path: '/submissions',
      summary: "Upload an agent's code (multipart: agent_id + code, a ZIP with agent.py and requirements.txt)",
      tags: ['submissions'],
      waitFor: submissionsProjection,
      auth: 'required',
      rateLimit: 'submissions',
      documentedBody: {
        contentType: 'multipart/form-data',
        description: 'The agent to submit for, and its code as a ZIP (agent.py + requirements.txt)',
        schema: z.object({
          agent_id: z.string().uuid().describe('Agent ID'),
          code: z.string().meta({ format: 'binary', description: 'ZIP file containing agent code' }),
        }),
      },
      responses: {
        201: { description: 'Accepted and queued for building', schema: CreatedSubmissionResponse },
        400: { description: 'Invalid ZIP file or missing required files (details.problem names the check)' },
        403: { description: 'Not the agent owner' },
        404: { description: 'Agent not found' },
        429: { description: 'Submission rate limit (per minute) or daily quota exceeded' },
      },
      handler: async (ctx) => {
        const upload = await readSubmissionUpload(ctx.req, { maxArchiveBytes });
        const outcome = await submitAgentCode(
          ctx.command,
          { artifacts: deps.storage.artifacts, dailyQuota: deps.config.ARENA_SUBMISSIONS_PER_DAY },
          { agentId: upload.agentId, userId: ctx.user.id, archive: upload.archive },
        );
        // The answer describes the submission as this request created it ("queued"), from the appended
        // event: the build worker may already have moved the read model on, or it may lag behind.
        const received = outcome.events.find((event) => event.type === 'SubmissionReceived');
        if (received?.type !== 'SubmissionReceived' || outcome.state.status === 'none') throw new Error('submission was not recorded');
        const { data } = received;
        return {
          status: 201,
          written: { streamId: submissionStreamId(outcome.submissionId), revision: outcome.revision },
          body: {
            id: data.submissionId,
            agent_id: data.agentId,
            version: data.version,
            status: outcome.state.status,
            code_path: codePath({ content_hash: data.contentHash }),
            created_at: iso(data.receivedAt),
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/submissions/agent/:agentId',
      summary: "An agent's submissions, newest version first",
      tags: ['submissions'],
      auth: 'none',
      request: { params: AgentIdParams, query: PageQuery },
      responses: { 200: { description: 'Submissions', schema: SubmissionListResponse }, 404: { description: 'Agent not found' } },
      handler: async ({ params, query }) => {
        if (!(await findAgent(deps.db, params.agentId))) throw new NotFoundError('Agent not found');
        const { rows, total } = await listAgentSubmissions(deps.db, params.agentId, query);
        return {
          status: 200,
          body: {
            submissions: rows.map((row) => ({ id: row.id, version: row.version, status: row.status, is_active: row.is_active, created_at: iso(row.created_at) })),
            total,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/submissions/:id',
      summary: 'A submission and its build status',
      tags: ['submissions'],
      auth: 'none',
      request: { params: IdParams },
      responses: { 200: { description: 'The submission', schema: SubmissionResponse }, 404: { description: 'Submission not found' } },
      handler: async ({ params }) => {
        const row = await requireSubmission(params.id);
        return {
          status: 200,
          body: {
            id: row.id,
            agent_id: row.agent_id,
            version: row.version,
            status: row.status,
            docker_image: row.docker_image,
            build_started_at: isoOrNull(row.build_started_at),
            build_completed_at: isoOrNull(row.build_completed_at),
            created_at: iso(row.created_at),
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/submissions/:id/build-status',
      summary: 'Detailed build status',
      tags: ['submissions'],
      auth: 'none',
      request: { params: IdParams },
      responses: { 200: { description: 'Build status', schema: BuildStatusResponse }, 404: { description: 'Submission not found' } },
      handler: async ({ params }) => {
        const row = await requireSubmission(params.id);
        let estimated: string | null = null;
        if (row.status === 'building' && row.build_started_at !== null) {
          const seconds = (await typicalBuildSeconds(deps.db)) ?? DEFAULT_BUILD_SECONDS;
          estimated = new Date(new Date(row.build_started_at).getTime() + Math.ceil(seconds * 1000)).toISOString();
        } else if (row.status === 'success' || row.status === 'failed') {
          estimated = isoOrNull(row.build_completed_at);
        }
        return {
          status: 200,
          body: {
            submission_id: row.id,
            status: row.status,
            phase: PHASES[row.status],
            docker_image: row.docker_image,
            started_at: isoOrNull(row.build_started_at),
            estimated_completion: estimated,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/submissions/:id/build-logs',
      summary: 'The log of the latest build (unpack, virtualenv, pip, agent check)',
      tags: ['submissions'],
      auth: 'none',
      request: { params: IdParams },
      responses: { 200: { description: 'Build log', schema: BuildLogsResponse }, 404: { description: 'Submission not found' } },
      handler: async ({ params }) => {
        const row = await requireSubmission(params.id);
        const logs = row.failure_reason && !row.build_logs.includes(row.failure_reason) ? `${row.build_logs}\nbuild failed: ${row.failure_reason}\n` : row.build_logs;
        return { status: 200, body: { submission_id: row.id, logs } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/submissions/:id/rebuild',
      summary: 'Retry a failed build (owner only)',
      tags: ['submissions'],
      waitFor: submissionsProjection,
      auth: 'required',
      request: { params: IdParams },
      responses: {
        200: { description: 'Rebuild queued', schema: RebuildResponse },
        400: { description: 'Submission not in failed state' },
        403: { description: 'Not the owner' },
        404: { description: 'Submission not found' },
      },
      handler: async (ctx) => {
        const outcome = await handleSubmissionCommand(ctx.command, ctx.params.id, {
          type: 'RequestRebuild',
          userId: ctx.user.id,
          now: deps.now().toISOString(),
        });
        return { status: 200, written: { streamId: submissionStreamId(ctx.params.id), revision: outcome.revision }, body: { id: ctx.params.id, status: 'queued' as const, message: 'Rebuild queued successfully' } };
      },
    }),
  ];
}
