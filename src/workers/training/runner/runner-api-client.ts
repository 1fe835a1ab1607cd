/**
 * The trainer runner's HTTP client: the runner routes of the public API and nothing else
 * (docs/training.md, "Trainer runners"). Answers are parsed with the routes' own schemas (src/contracts); 409 becomes a
 * ConflictError (the run is no longer current), 401 an UnauthorizedError (fatal for a runner).
 */
import { z } from 'zod';
import { ConflictError, UnauthorizedError } from '../../../domain/shared/errors';
import { ClaimedTrainingJobResponse, RunnerRunStateResponse, type ClaimTrainingJobBody } from '../../../contracts/training-runner-wire';

export type RunState = z.infer<typeof RunnerRunStateResponse>;
export type ClaimedJob = z.infer<typeof ClaimedTrainingJobResponse>;

const ErrorBody = z.looseObject({ detail: z.string().optional(), error: z.string().optional() });

/** Something other than a definite answer (network, 5xx): worth retrying. */
export class RunnerTransportError extends Error {}
/** A definite refusal the runner cannot fix by retrying (400, 403, 404, 413). */
export class RunnerRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RunnerReportBody {
  runner_id: string;
  attempt: number;
  [field: string]: unknown;
}

export class RunnerApiClient {
  private readonly base: string;

  constructor(
    server: string,
    private readonly token: string,
    private readonly retryDelaysMs: readonly number[] = [500, 1000, 2000, 4000],
  ) {
    // Accept the server's root or its API base.
    this.base = `${server.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}/api/v1`;
  }

  /** Long-polls for a job; undefined when none came within `waitSec`. */
  async claim(body: z.input<typeof ClaimTrainingJobBody>, signal?: AbortSignal): Promise<ClaimedJob | undefined> {
    const response = await this.request('POST', '/training/runners/claim', { json: body, signal, retries: false });
    if (response.status === 204) return undefined;
    return ClaimedTrainingJobResponse.parse(await response.json());
  }

  async report(jobId: string, kind: 'heartbeat' | 'progress' | 'fail' | 'cancelled' | 'release', body: RunnerReportBody): Promise<RunState> {
    const response = await this.request('POST', `/training/runners/jobs/${encodeURIComponent(jobId)}/${kind}`, { json: body, retries: true });
    return RunnerRunStateResponse.parse(await response.json());
  }

  async complete(jobId: string, run: { runner_id: string; attempt: number; timestep: number; mean_return: number | null }, artefact: Buffer): Promise<RunState> {
    const query = new URLSearchParams({ runner_id: run.runner_id, attempt: String(run.attempt), timestep: String(run.timestep) });
    if (run.mean_return !== null) query.set('mean_return', String(run.mean_return));
    const response = await this.request('POST', `/training/runners/jobs/${encodeURIComponent(jobId)}/complete?${query}`, { bytes: artefact, retries: true });
    return RunnerRunStateResponse.parse(await response.json());
  }

  private async request(
    method: string,
    path: string,
    options: { json?: unknown; bytes?: Buffer; signal?: AbortSignal; retries: boolean },
  ): Promise<Response> {
    const delays = options.retries ? this.retryDelaysMs : [];
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, path, options);
      } catch (error) {
        const delay = delays[attempt];
        if (!(error instanceof RunnerTransportError) || delay === undefined || options.signal?.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async once(method: string, path: string, options: { json?: unknown; bytes?: Buffer; signal?: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.bytes !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = new Uint8Array(options.bytes);
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers, body, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new RunnerTransportError(`${method} ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status < 400) return response;
    const text = await response.text();
    const parsed = ErrorBody.safeParse(safeJson(text));
    const message = `${method} ${path} answered ${response.status}: ${(parsed.success ? (parsed.data.detail ?? parsed.data.error) : undefined) ?? text.slice(0, 300)}`;
    if (response.status === 409) throw new ConflictError(message);
    if (response.status === 401) throw new UnauthorizedError(message);
    if (response.status >= 500 || response.status === 429) throw new RunnerTransportError(message);
    throw new RunnerRequestError(response.status, message);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
